// A field whose type has no archived layout is refused at the field, and a helper type of the
// module that is not stored opts out with `#[netabase(skip)]`.
#[netabase_store::netabase_definition_module(Def, DefKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[netabase(skip)]
    pub struct Helper {
        pub callback: Box<dyn Fn()>,
    }

    pub struct NotAType;

    #[derive(NetabaseModel)]
    #[netabase(Def)]
    pub struct User {
        #[primary_key]
        pub id: u64,
        pub at: std::time::Instant,
    }
}

fn main() {}
