include!("schema.rs.in");

fn main() -> Result<(), netabase_store::NetabaseError> {
    let store = netabase_store::Store::<BlogDefinition, _>::temp()?;
    let txn = store.write()?;
    let mut tree = txn.open_tree::<User>()?;
    tree.put(User { id: 1, email: "a@x".into() })?;
    // A tree borrows its transaction: commit while it lives does not compile.
    txn.commit()?;
    tree.put(User { id: 2, email: "b@x".into() })?;
    Ok(())
}
