// observe writes the objective's labels itself: a label of the same name would make two
// labels of one name on a series.
use observe::observe;

#[observe(
    metric = "checkout",
    labels(objective_name = "mine"),
    objective(name = "api", success = 99.9)
)]
fn checkout() {}

#[observe(metric = "browse", labels(otel_metric_overflow = "no"))]
fn browse() {}

fn main() {
    checkout();
    browse();
}
