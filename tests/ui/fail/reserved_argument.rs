use observe::observe;

#[observe(metric = "rename")]
fn rename(metric_name: &str, metric_label_table: &str, (metric_label_x, y): (u8, u8)) {
    let _ = (metric_name, metric_label_table, metric_label_x, y);
}

// Skipping one of them leaves the others refused.
#[observe(skip(metric_name))]
fn relabel(metric_name: &str, r#metric_label_k: u8) {
    let _ = (metric_name, metric_label_k);
}

fn main() {}
