use observe::observe;

const SPAN_NAME: &str = "custom.name";

// Written in an order tracing-attributes would reject (`target` before `parent`);
// #[observe] takes its options in any order.
#[observe(
    target = "my_target",
    parent = None,
    follows_from = [cause.id()],
    name = SPAN_NAME,
    level = Level::WARN,
    skip(secret),
    fields(user.id = 7, ?secret, %shown = 1, empty),
    err(level = "warn", Display),
    ret(Debug, level = 2),
    metric = "all_options",
    labels(k = %1, r#type = "t"),
    otel_kind = "internal",
)]
fn everything(cause: &tracing::Span, secret: &str) -> Result<u32, String> {
    Ok(secret.len() as u32)
}

use tracing::Level;

fn main() {
    let _ = everything(&tracing::Span::none(), "x");
}
