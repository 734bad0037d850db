#[netabase_store::netabase_definition_module(Def, DefKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel)]
    #[netabase(Def)]
    pub struct User {
        #[primary_key]
        pub id: u64,
        #[secondary_key]
        pub email: String,
        #[secondary_key(tag = 0)]
        pub name: String,
    }
}

fn main() {}
