use observe::observe;

#[observe(histogram = true)]
fn save() {}

fn main() {}
