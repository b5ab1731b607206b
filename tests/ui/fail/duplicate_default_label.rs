use observe::observe;

// Without `metric`, `function` and `module` are added for you.
#[observe(labels(function = "other"))]
fn save() {}

fn main() {}
