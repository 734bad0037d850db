#[netabase_store::netabase_definition_module(Def, DefKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[netabase(version = 3)]
    pub struct UserV3 {
        pub id: u64,
    }

    #[derive(NetabaseModel)]
    #[netabase(Def, version = 2, from = UserV3)]
    pub struct User {
        #[primary_key]
        pub id: u64,
    }

    impl From<UserV3> for User {
        fn from(v: UserV3) -> Self {
            User { id: v.id }
        }
    }
}

fn main() {}
