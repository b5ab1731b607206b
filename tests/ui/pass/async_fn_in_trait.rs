use observe::observe;

trait Store {
    fn put(&self, key: &str) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

#[derive(Debug)]
struct Mem;

impl Store for Mem {
    #[observe(labels(key = key))]
    async fn put(&self, key: &str) -> Result<(), String> {
        if key.is_empty() { Err("empty".into()) } else { Ok(()) }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let _ = rt.block_on(Mem.put("k"));
}
