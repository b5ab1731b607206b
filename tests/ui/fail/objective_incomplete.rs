use observe::observe;

#[observe(objective(success = 99.9))]
fn unnamed() {}

#[observe(objective(name = " ", success = 99.9))]
fn blank() {}

#[observe(objective(name = "api"))]
fn no_target() {}

fn main() {}
