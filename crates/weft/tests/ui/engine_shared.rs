// An engine cannot be shared between threads either.
fn assert_sync<T: Sync>(_: &T) {}

fn main() {
    let engine = weft::Engine::builder().build().unwrap();
    assert_sync(&engine);
}
