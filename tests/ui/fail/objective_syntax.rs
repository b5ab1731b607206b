use observe::observe;

#[observe(objective(name = "api", succes = 99.9))]
fn misspelled() {}

fn main() {}
