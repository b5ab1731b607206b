//! An argument named like a field `#[observe]` writes is fine once it is not recorded.
use observe::observe;

#[observe(skip(metric_name))]
fn rename(metric_name: &str, to: &str) -> String {
    format!("{metric_name}->{to}")
}

#[observe(skip_all)]
fn relabel(metric_label_table: &str) -> usize {
    metric_label_table.len()
}

// Raw identifiers are the same parameter to `skip`, written either way.
#[observe(skip(r#type, metric_label_k))]
fn raw(r#type: u8, r#metric_label_k: u8) -> u8 {
    r#type + metric_label_k
}

fn main() {
    rename("a", "b");
    relabel("t");
    raw(1, 2);
}
