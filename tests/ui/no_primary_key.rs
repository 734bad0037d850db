#[netabase_store::netabase_definition_module(Def, DefKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel)]
    #[netabase(Def)]
    pub struct User {
        pub id: u64,
        #[secondary_key]
        pub email: String,
    }
}

fn main() {}
