//! The span instrumentation `#[observe]` emits itself, with the semantics of
//! `#[tracing::instrument]` (tracing-attributes 0.1.31, `expand.rs`): which arguments are
//! recorded and how, the level fast path, `parent`, `follows_from`, and the `err` / `ret`
//! events. Every path is absolute through `::observe::__private::tracing`, so the user crate
//! needs no `tracing` dependency of its own.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{Expr, FnArg, Ident, Pat, Signature, Type};

use crate::attr::{Args, EventArgs, FieldName, Kind, Level, OutcomeRule};
use crate::fields::{self, SpanField, Value};

/// Everything the body shapes in `body.rs` need to instrument a function.
pub(crate) struct Instrument {
    /// The span's target (also the events'): as given, or `::core::module_path!()`.
    pub target: TokenStream,
    /// The span's `static` callsite items (`__OBSERVE_CALLSITE`) and its registry entry.
    pub callsite: TokenStream,
    /// The span, from `__observe_on: ::observe::__private::Enabled` (one expression).
    pub new_span: TokenStream,
    err: Option<Event>,
    ret: Option<Event>,
    /// `ok_if` / `error_if`.
    pub outcome_rule: Option<OutcomeRule>,
}

/// An `err` or `ret` event: its level and whether the value is recorded with `Display`.
struct Event {
    level: TokenStream,
    display: bool,
}

impl Instrument {
    pub(crate) fn new(args: &Args, sig: &Signature) -> Instrument {
        let name = match &args.name {
            Some(name) => quote!(#name),
            None => {
                let name = sig.ident.to_string();
                quote!(#name)
            }
        };
        let target = match &args.target {
            Some(target) => quote!(#target),
            None => quote!(::core::module_path!()),
        };
        let level = level_tokens(args.level.as_ref());

        // Span fields: the recorded arguments first, then `fields(..)`, then ours.
        let ours = fields::span_fields(args, Some(&sig.ident));
        let shadowing: Vec<String> = args
            .fields
            .iter()
            .flatten()
            .filter_map(|f| match &f.name {
                FieldName::Dotted(parts) if parts.len() == 1 => Some(parts[0].unraw().to_string()),
                _ => None,
            })
            .collect();
        let mut all = param_fields(args, sig, &shadowing);
        all.extend(ours);
        let mut callsite = fields::callsite(&name, &target, &level, &all);
        callsite.extend(crate::registry::entry(args, Some(&sig.ident)));
        let values = fields::values(&all);
        let new_span = match &args.parent {
            Some(parent) => quote!(__observe_on.child_span(#parent, #values)),
            None => quote!(__observe_on.span(#values)),
        };
        // In a block with the probe traits in scope, and only then: most functions record
        // no argument with `Debug`, and the `use` would be one more item to resolve.
        let new_span = if fields::probes(&all) {
            let traits = fields::probe_traits();
            quote!({ #traits #new_span })
        } else {
            new_span
        };
        let new_span = match &args.follows_from {
            Some(causes) => with_causes(causes, &new_span),
            None => new_span,
        };

        let event = |event: &Option<EventArgs>, default: &TokenStream, display_default: bool| {
            event.as_ref().map(|e| Event {
                level: e
                    .level
                    .as_ref()
                    .map_or_else(|| default.clone(), |l| level_tokens(Some(l))),
                display: match &e.mode {
                    Some(mode) => mode == "Display",
                    None => display_default,
                },
            })
        };
        let error_level = quote!(::observe::__private::tracing::Level::ERROR);
        Instrument {
            err: event(&args.err, &error_level, true),
            ret: event(&args.ret, &level, false),
            target,
            callsite,
            new_span,
            outcome_rule: args.outcome_rule.clone(),
        }
    }

    pub(crate) fn has_err(&self) -> bool {
        self.err.is_some()
    }

    /// The `error` event for the binding `value` (`err` given), at the span's target.
    pub(crate) fn err_event(&self, value: &Ident) -> TokenStream {
        self.err
            .as_ref()
            .map_or_else(TokenStream::new, |e| self.event(e, "error", value))
    }

    /// The `return` event for the binding `value` (`ret` given), at the span's target.
    pub(crate) fn ret_event(&self, value: &Ident) -> TokenStream {
        self.ret
            .as_ref()
            .map_or_else(TokenStream::new, |e| self.event(e, "return", value))
    }

    fn event(&self, event: &Event, field: &str, value: &Ident) -> TokenStream {
        let target = &self.target;
        let level = &event.level;
        // `return` is a keyword, and still a field name to tracing's macros (an ident token).
        let field = Ident::new(field, proc_macro2::Span::call_site());
        let sigil = if event.display { quote!(%) } else { quote!(?) };
        quote! {
            ::observe::__private::tracing::event!(target: #target, #level, #field = #sigil #value);
        }
    }
}

/// A `tracing::Level` expression for the span's `static` metadata; `level` was validated.
pub(crate) fn level_tokens(level: Option<&Level>) -> TokenStream {
    let named = |s: &str| match s.to_ascii_lowercase().as_str() {
        "trace" | "1" => quote!(::observe::__private::tracing::Level::TRACE),
        "debug" | "2" => quote!(::observe::__private::tracing::Level::DEBUG),
        "warn" | "4" => quote!(::observe::__private::tracing::Level::WARN),
        "error" | "5" => quote!(::observe::__private::tracing::Level::ERROR),
        _ => quote!(::observe::__private::tracing::Level::INFO),
    };
    match level {
        None => named("info"),
        Some(Level::Str(s)) => named(&s.value()),
        Some(Level::Int(i)) => named(i.base10_digits()),
        Some(Level::Path(p)) => quote!(#p),
    }
}

/// How an argument is recorded: as a `Value` (primitives, strings) or with `Debug`, where
/// its type implements it (tracing-attributes requires it; `#[observe]` leaves the
/// argument out instead, see `__private::Probe`).
#[derive(Clone, Copy)]
enum Record {
    Value,
    Debug,
}

/// The types tracing-attributes records as a `Value` (by the last path segment, through
/// references); everything else is recorded with `Debug`.
const VALUE_TYPES: &[&str] = &[
    "bool",
    "str",
    "u8",
    "i8",
    "u16",
    "i16",
    "u32",
    "i32",
    "u64",
    "i64",
    "u128",
    "i128",
    "f32",
    "f64",
    "usize",
    "isize",
    "String",
    "NonZeroU8",
    "NonZeroI8",
    "NonZeroU16",
    "NonZeroI16",
    "NonZeroU32",
    "NonZeroI32",
    "NonZeroU64",
    "NonZeroI64",
    "NonZeroU128",
    "NonZeroI128",
    "NonZeroUsize",
    "NonZeroIsize",
    "Wrapping",
];

impl Record {
    fn of(ty: &Type) -> Record {
        match ty {
            Type::Path(p)
                if p.path
                    .segments
                    .last()
                    .is_some_and(|s| VALUE_TYPES.iter().any(|t| s.ident == t)) =>
            {
                Record::Value
            }
            Type::Reference(r) => Record::of(&r.elem),
            _ => Record::Debug,
        }
    }
}

/// Span fields for the arguments, as tracing-attributes records them: every binding of
/// every parameter pattern (`self` included, with `Debug`), minus `skip(..)`, all of them
/// with `skip_all`, and minus those a single-segment field of the same name replaces. One
/// difference: a binding whose type does not implement `Debug` is declared but left empty
/// rather than failing the build. (A binding named like a field `#[observe]` writes was
/// refused by `valid::argument_names`.)
fn param_fields(args: &Args, sig: &Signature, shadowing: &[String]) -> Vec<SpanField> {
    if args.skip_all.is_some() {
        return Vec::new();
    }
    let mut bindings = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => bindings.push((Ident::new("self", r.span()), Record::Debug)),
            FnArg::Typed(pat) => collect_bindings(&pat.pat, Record::of(&pat.ty), &mut bindings),
        }
    }
    let skips = args.skip.as_deref().unwrap_or_default();
    bindings
        .into_iter()
        .filter(|(ident, _)| {
            !skips.iter().any(|s| s.unraw() == ident.unraw())
                && !shadowing.iter().any(|f| ident.unraw() == f)
        })
        .map(|(ident, record)| {
            let value = match record {
                Record::Value => Value::Expr(Kind::Value, quote!(#ident)),
                Record::Debug => Value::DebugIfImplemented(ident.clone()),
            };
            SpanField::known(ident.unraw().to_string(), value)
        })
        .collect()
}

/// The bindings of a parameter pattern; inside struct and tuple patterns the field types
/// are unknown, so they are recorded with `Debug` (as tracing-attributes does).
fn collect_bindings(pat: &Pat, record: Record, out: &mut Vec<(Ident, Record)>) {
    match pat {
        Pat::Ident(p) => out.push((p.ident.clone(), record)),
        Pat::Reference(p) => collect_bindings(&p.pat, record, out),
        Pat::Struct(p) => p
            .fields
            .iter()
            .for_each(|f| collect_bindings(&f.pat, Record::Debug, out)),
        Pat::Tuple(p) => p
            .elems
            .iter()
            .for_each(|p| collect_bindings(p, Record::Debug, out)),
        Pat::TupleStruct(p) => p
            .elems
            .iter()
            .for_each(|p| collect_bindings(p, Record::Debug, out)),
        _ => {}
    }
}

/// The span made with `follows_from`'s causes as its links from the start (so that its
/// first log line names them, see `observe_runtime::context::with_links`), then given them
/// as `follows_from` edges too, for every other subscriber: `causes` is evaluated once, as
/// `#[instrument]` evaluates it.
fn with_causes(causes: &Expr, new_span: &TokenStream) -> TokenStream {
    quote! {{
        let __observe_causes: ::std::vec::Vec<
            ::core::option::Option<::observe::__private::tracing::Id>,
        > = ::core::iter::IntoIterator::into_iter(#causes)
            .map(::core::convert::Into::into)
            .collect();
        let __observe_new = ::observe::__private::with_links(
            ::core::iter::Iterator::cloned(__observe_causes.iter()),
            || #new_span,
        );
        for __observe_cause in __observe_causes {
            __observe_new.follows_from(__observe_cause);
        }
        __observe_new
    }}
}
