#[netabase_store::netabase_definition_module(Def, DefKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[netabase(from = UserV0)]
    pub struct UserV1 {
        pub id: u64,
    }

    #[derive(NetabaseModel)]
    #[netabase(Def)]
    pub struct User {
        #[primary_key]
        pub id: u64,
    }
}

fn main() {}
