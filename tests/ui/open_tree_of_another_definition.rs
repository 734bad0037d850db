include!("schema.rs.in");

#[netabase_store::netabase_definition_module(ShopDefinition, ShopKeys)]
mod shop {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug)]
    #[netabase(ShopDefinition)]
    pub struct Item {
        #[primary_key]
        pub id: u64,
    }
}

fn main() -> Result<(), netabase_store::NetabaseError> {
    let store = netabase_store::Store::<BlogDefinition, _>::temp()?;
    let txn = store.read()?;
    // `Item` is not a model of `BlogDefinition`.
    let _items = txn.open_tree::<shop::Item>()?;
    Ok(())
}
