use netabase_store::NetabaseModel;

#[derive(NetabaseModel)]
#[netabase(Def)]
pub struct User {
    #[primary_key]
    pub id: u64,
}

fn main() {}
