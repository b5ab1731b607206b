//! A body whose tail is an async block (`Box::pin(async move { .. })`, as `#[async_trait]` writes it): the block is instrumented instead of the function.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;
use syn::parse::Parser as _;
use syn::{Block, Expr, ExprAsync, ReturnType, Stmt};

use crate::instrument::Instrument;

use super::instrumented_future;
use super::output::{Output, future_output};

/// A sync fn whose value is a future built by an `async` block in tail position:
/// `Box::pin(async move { .. })` (async-trait) or `async move { .. }`.
pub(crate) struct AsyncTail {
    stmts: Vec<Stmt>,
    /// Index of the tail statement in `stmts`.
    index: usize,
}

impl AsyncTail {
    /// Recognises the shapes tracing-attributes 0.1.31 recognises (`AsyncInfo::from_fn`):
    /// the tail expression is an `async` block, or a call of a path ending in `Box::pin`
    /// whose first argument is one. The body is parsed only when an `async` token at its top
    /// level (or in a top-level parenthesis) makes that possible.
    pub(crate) fn find(body: &TokenStream) -> Option<Self> {
        let async_at = |tokens: TokenStream| {
            tokens
                .into_iter()
                .any(|t| matches!(&t, TokenTree::Ident(i) if i == "async"))
        };
        let possible = body.clone().into_iter().any(|t| match &t {
            TokenTree::Ident(i) => i == "async",
            TokenTree::Group(g) => g.delimiter() == Delimiter::Parenthesis && async_at(g.stream()),
            _ => false,
        });
        if !possible {
            return None;
        }
        let stmts = Block::parse_within.parse2(body.clone()).ok()?;
        let index = stmts
            .iter()
            .rposition(|stmt| matches!(stmt, Stmt::Expr(..)))?;
        let Stmt::Expr(tail, _) = &stmts[index] else {
            return None;
        };
        let found = match tail {
            Expr::Async(_) => true,
            Expr::Call(call) => {
                let is_box_pin = matches!(&*call.func, Expr::Path(path) if {
                    let segments: Vec<String> =
                        path.path.segments.iter().map(|s| s.ident.to_string()).collect();
                    segments.join("::").ends_with("Box::pin")
                });
                is_box_pin && matches!(call.args.first(), Some(Expr::Async(_)))
            }
            _ => false,
        };
        found.then_some(AsyncTail { stmts, index })
    }

    /// The fn body with the tail's async block instrumented; `ret` is the fn's declared
    /// return type, searched for `Future<Output = R>` (`Pin<Box<dyn Future<Output = R> + ..>>`
    /// from async-trait, or `impl Future<Output = R>`).
    pub(crate) fn body(&self, inst: &Instrument, ret: &ReturnType) -> TokenStream {
        let output = match ret {
            ReturnType::Type(_, ty) => future_output(ty)
                .map(Output::from_type)
                .unwrap_or(Output::Inferred),
            ReturnType::Default => Output::Inferred,
        };
        let Stmt::Expr(tail, _) = &self.stmts[self.index] else {
            unreachable!("found as an expression")
        };
        let (boxing, async_expr) = match tail {
            Expr::Async(async_expr) => (None, async_expr),
            Expr::Call(call) => match call.args.first() {
                Some(Expr::Async(async_expr)) => (Some(&call.func), async_expr),
                _ => unreachable!("found as a call with an async block"),
            },
            _ => unreachable!("found as an async block or a call"),
        };
        let ExprAsync {
            attrs,
            capture,
            block: inner,
            ..
        } = async_expr;
        let stmts = &inner.stmts;
        let instrumented = instrumented_future(inst, &output, quote!(#(#stmts)*));
        let new_async = quote!(#(#attrs)* async #capture { #instrumented });
        let tail = match boxing {
            Some(func) => quote!(#func(#new_async)),
            None => new_async,
        };
        let before = &self.stmts[..self.index];
        let after = &self.stmts[self.index + 1..];
        quote! {
            #(#before)*
            #tail
            #(#after)*
        }
    }
}
