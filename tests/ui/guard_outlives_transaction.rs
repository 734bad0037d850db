include!("schema.rs.in");

fn main() -> Result<(), netabase_store::NetabaseError> {
    let store = netabase_store::Store::<BlogDefinition, _>::temp()?;
    let email = {
        let txn = store.read()?;
        let tree = txn.open_tree::<User>()?;
        let user = tree.get(UserPrimaryKey(1))?;
        // The archived record borrows the transaction's page: it cannot escape it.
        user
    };
    println!("{}", email.is_some());
    Ok(())
}
