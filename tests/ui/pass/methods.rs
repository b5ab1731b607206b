use observe::observe;

#[derive(Debug)]
pub struct Counter {
    name: String,
    n: u64,
}

impl Counter {
    #[observe(labels(counter = self.name.as_str()))]
    pub fn get(&self) -> u64 {
        self.n
    }

    #[observe(skip(self), err(Debug))]
    pub fn bump(&mut self, by: u64) -> Result<u64, String> {
        self.n = self.n.checked_add(by).ok_or("overflow")?;
        Ok(self.n)
    }

    #[observe(ret)]
    pub fn into_name(self) -> String {
        self.name
    }

    #[observe]
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn main() {
    let mut c = Counter { name: "c".into(), n: 0 };
    let _ = c.bump(1);
    let _ = c.get();
    let _ = c.name().len();
    let _ = c.into_name();
}
