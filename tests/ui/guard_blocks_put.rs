include!("schema.rs.in");

fn main() -> Result<(), netabase_store::NetabaseError> {
    let store = netabase_store::Store::<BlogDefinition, _>::temp()?;
    let txn = store.write()?;
    let mut tree = txn.open_tree::<User>()?;
    tree.put(User { id: 1, email: "a@x".into() })?;
    let alice = tree.get(UserPrimaryKey(1))?.unwrap();
    // A live guard borrows the tree: writing to it meanwhile does not compile.
    tree.put(User { id: 2, email: "b@x".into() })?;
    println!("{}", alice.email);
    Ok(())
}
