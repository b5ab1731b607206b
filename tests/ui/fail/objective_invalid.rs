use observe::observe;

#[observe(objective(name = "api", success = 100))]
fn all() {}

#[observe(objective(name = "api", success = 0.0))]
fn none() {}

#[observe(objective(name = "api", success = -5))]
fn negative() {}

#[observe(objective(name = "api", latency = ("250", 99.0)))]
fn no_unit() {}

#[observe(objective(name = "api", latency = ("0ms", 99.0)))]
fn zero() {}

#[observe(objective(name = "api", latency = ("fast", 99.0)))]
fn words() {}

#[observe(objective(name = "api", latency = ("2m", 99.0)))]
fn minutes() {}

#[observe(objective(name = "api", latency = ("250ms", 100.5)))]
fn latency_percent() {}

fn main() {}
