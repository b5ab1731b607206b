use observe::observe;

#[derive(Debug)]
pub enum ApiError {
    NotFound,
    Internal,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ApiError::NotFound => "not found",
            ApiError::Internal => "internal",
        })
    }
}

const LIMIT: u32 = 100;

fn not_found(r: &Result<u32, ApiError>) -> bool {
    matches!(r, Err(ApiError::NotFound))
}

// A path to a function taking `&ReturnType`.
#[observe(ok_if = not_found)]
fn get(id: u32) -> Result<u32, ApiError> {
    match id {
        0 => Err(ApiError::NotFound),
        1 => Err(ApiError::Internal),
        n => Ok(n),
    }
}

// A closure, its parameter type inferred; with `err` and `ret`.
#[observe(ok_if = |r| matches!(r, Err(ApiError::NotFound)), err, ret)]
fn get_logged(id: u32) -> Result<u32, ApiError> {
    let n = if id == 0 { Err(ApiError::NotFound) } else { Ok(id) }?;
    Ok(n)
}

// `error_if` with a typed closure, on an `Ok(None)`.
#[observe(error_if = |r: &Result<Option<u32>, ApiError>| matches!(r, Ok(None)), err(Debug))]
fn find(id: u32) -> Result<Option<u32>, ApiError> {
    Ok((id > 0).then_some(id))
}

// `error_if` on a type that is not a `Result`, reading a constant.
#[observe(error_if = |n| *n > LIMIT)]
fn count(n: u32) -> u32 {
    n
}

// A method path, and an `impl Trait` inside the `Result`.
#[observe(error_if = Option::is_none)]
fn maybe(n: u32) -> Option<u32> {
    n.checked_sub(1)
}

#[observe(ok_if = |r| r.as_ref().is_err_and(|e| matches!(e, ApiError::NotFound)))]
fn items(n: u32) -> Result<impl Iterator<Item = u32>, ApiError> {
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(0..n)
}

#[observe(ok_if = not_found, err)]
async fn get_async(id: u32) -> Result<u32, ApiError> {
    get(id)
}

#[observe(error_if = |r| matches!(r, Ok(None)))]
async fn find_async(id: u32) -> Result<Option<u32>, ApiError> {
    find(id)
}

#[async_trait::async_trait]
pub trait Store {
    async fn load(&self, id: u32) -> Result<u32, ApiError>;
}

pub struct Remote;

#[async_trait::async_trait]
impl Store for Remote {
    #[observe(ok_if = |r| matches!(r, Err(ApiError::NotFound)))]
    async fn load(&self, id: u32) -> Result<u32, ApiError> {
        get(id)
    }
}

fn main() {
    let _ = get(0);
    let _ = get_logged(2);
    let _ = find(0);
    let _ = count(3);
    let _ = maybe(0);
    let _ = items(2).map(|i| i.count());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let _ = get_async(0).await;
        let _ = find_async(0).await;
        let _ = Remote.load(1).await;
    });
}
