use observe::observe;

#[async_trait::async_trait]
trait Store {
    async fn get(&self, key: &str) -> Result<u32, String>;
    async fn touch(&mut self);
}

#[derive(Debug)]
struct Remote {
    table: String,
    touched: u32,
}

// `#[async_trait]` on the impl, `#[observe]` on the method: async-trait expands first.
#[async_trait::async_trait]
impl Store for Remote {
    #[observe(metric = "remote_get", labels(table = self.table.as_str()), err)]
    async fn get(&self, key: &str) -> Result<u32, String> {
        let n = u32::try_from(key.len()).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("empty key".into());
        }
        Ok(n)
    }

    #[observe(skip(self))]
    async fn touch(&mut self) {
        self.touched += 1;
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut remote = Remote { table: "t".into(), touched: 0 };
    rt.block_on(async {
        let _ = remote.get("k").await;
        remote.touch().await;
        let store: &dyn Store = &remote;
        let _ = store.get("x").await;
    });
}
