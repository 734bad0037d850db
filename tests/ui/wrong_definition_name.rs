#[netabase_store::netabase_definition_module(BlogDefinition, BlogKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel)]
    #[netabase(ShopDefinition)]
    pub struct User {
        #[primary_key]
        pub id: u64,
    }
}

fn main() {}
