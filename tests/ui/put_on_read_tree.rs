include!("schema.rs.in");

fn main() -> Result<(), netabase_store::NetabaseError> {
    let store = netabase_store::Store::<BlogDefinition, _>::temp()?;
    let txn = store.read()?;
    let mut tree = txn.open_tree::<User>()?;
    // Writing through a read transaction does not compile.
    tree.put(User { id: 1, email: "a@x".into() })?;
    Ok(())
}
