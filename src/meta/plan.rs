//! Deciding per model what an open must do ([`Planner`]), and doing it in the open's write
//! transaction ([`Evolve`], with [`migrate`]).

use std::ops::Bound;

use netabase_backend_api::{Backend, Direction, ReadTable};

use super::{MigrationProgress, MigrationStage, ModelRecord, Plan, read_record};
use crate::error::{NetabaseError, Result};
use crate::schema::{LayoutNode, ModelVersion, diff_layouts, parse_layout};
use crate::traits::definition::{ModelVisitor, NetabaseDefinitionTrait};
use crate::traits::model::NetabaseModelTrait;
use crate::txn::WriteTxn;

/// Decides, per model, what opening must do.
pub(super) struct Planner<'a, T> {
    pub(super) meta: &'a T,
    pub(super) plans: Vec<(&'static str, Plan)>,
    pub(super) errors: Vec<String>,
    pub(super) too_new: Option<NetabaseError>,
}

impl<D: NetabaseDefinitionTrait, T: ReadTable> ModelVisitor<D> for Planner<'_, T> {
    fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
        let name = M::INFO.name;
        let stored = match read_record(self.meta, name) {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                self.plans.push((name, Plan::Record));
                return Ok(());
            }
            Err(NetabaseError::SchemaMismatch { details, .. }) => {
                self.errors.push(details);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let current = ModelRecord::of(M::INFO);
        let parse = |text: &str, what: &str| {
            parse_layout(text)
                .map_err(|e| format!("the {what} layout of `{name}` is unreadable: {e}"))
        };
        if stored.version > current.version {
            self.too_new.get_or_insert(NetabaseError::SchemaTooNew {
                model: name,
                stored_version: stored.version,
                known_version: current.version,
            });
            return Ok(());
        }
        if stored.version < current.version {
            let mut versions = Vec::new();
            <M as ModelVersion>::versions(&mut versions);
            let Some((_, shape)) = versions.iter().find(|(v, _)| *v == stored.version) else {
                let known: Vec<String> = versions.iter().map(|(v, _)| v.to_string()).collect();
                self.errors.push(format!(
                    "`{name}` is stored at version {}, which its `from` chain does not declare \
                     (it declares versions {})",
                    stored.version,
                    known.join(", ")
                ));
                return Ok(());
            };
            let declared = LayoutNode::of(shape);
            match parse(&stored.layout, "stored") {
                Ok(old) if old == declared => {
                    self.plans.push((name, Plan::Migrate(stored.version)));
                }
                Ok(old) => self.errors.push(format!(
                    "`{name}` version {} in code does not match the stored version {}: {}",
                    stored.version,
                    stored.version,
                    diff_layouts(name, &old, &declared).join(", ")
                )),
                Err(e) => self.errors.push(e),
            }
            return Ok(());
        }
        if stored.layout != current.layout {
            match parse(&stored.layout, "stored") {
                Ok(old) => self.errors.push(format!(
                    "`{name}` changed layout at version {}: {} (to keep the records, declare \
                     the old layout as an earlier version with `from`, and give the model a new \
                     `version = N`)",
                    current.version,
                    diff_layouts(name, &old, &LayoutNode::of(M::INFO.shape)).join(", ")
                )),
                Err(e) => self.errors.push(e),
            }
            return Ok(());
        }
        if stored.primary_key != current.primary_key {
            self.errors.push(format!(
                "`{name}`'s primary key changed from `{}` to `{}`: records are stored under the \
                 old key (declare a new version to migrate them)",
                stored.primary_key, current.primary_key
            ));
            return Ok(());
        }
        if stored.keys != current.keys {
            let tags = stored
                .keys
                .keys()
                .chain(current.keys.keys())
                .copied()
                .filter(|t| stored.keys.get(t) != current.keys.get(t))
                .collect::<std::collections::BTreeSet<u8>>();
            self.plans
                .push((name, Plan::Rebuild(tags.into_iter().collect())));
        }
        Ok(())
    }
}

/// Carries the plans out inside one write transaction.
pub(super) struct Evolve<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
    pub(super) txn: &'a WriteTxn<'db, D, B>,
    pub(super) plans: Vec<(&'static str, Plan)>,
    pub(super) progress: &'a mut dyn FnMut(MigrationProgress),
}

impl<D: NetabaseDefinitionTrait, B: Backend> ModelVisitor<D> for Evolve<'_, '_, D, B> {
    fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
        match self.plans.iter().find(|(n, _)| *n == M::INFO.name) {
            Some((_, Plan::Rebuild(tags))) => {
                self.txn.open_tree::<M>()?.rebuild_index_tags(Some(tags))?;
            }
            Some((_, Plan::Migrate(from))) => migrate::<D, B, M>(self.txn, *from, self.progress)?,
            Some((_, Plan::Record)) | None => {}
        }
        Ok(())
    }
}

/// Reads every record of `M` as version `from`, converts it to the current version, and
/// writes them all back through the typed tree (so every index entry is rebuilt and unique
/// keys are checked).
fn migrate<D: NetabaseDefinitionTrait, B: Backend, M: NetabaseModelTrait<Definition = D>>(
    txn: &WriteTxn<'_, D, B>,
    from: u32,
    progress: &mut dyn FnMut(MigrationProgress),
) -> Result<()> {
    let mut tree = txn.open_tree::<M>()?;
    let total = tree.len()?;
    let mut report = |stage, done| {
        progress(MigrationProgress {
            model: M::INFO.name,
            from_version: from,
            to_version: M::VERSION,
            stage,
            done,
            total,
        })
    };
    let failed = |key: &[u8], reason: String| NetabaseError::MigrationFailed {
        model: M::INFO.name,
        from_version: from,
        to_version: M::VERSION,
        key: key.to_vec(),
        reason,
    };
    let mut converted = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for entry in
        tree.primary_table()
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)?
    {
        let (key, value) = entry?;
        let model = M::read_version(from, value.as_ref())
            .map_err(|e| failed(key.as_ref(), e.to_string()))?;
        converted.push(model);
        report(MigrationStage::Converting, converted.len() as u64);
    }
    tree.clear()?;
    let mut key = Vec::new();
    for (done, model) in converted.iter().enumerate() {
        if tree.contains_key(model.primary_key())? {
            key.clear();
            model.encode_primary_key(&mut key);
            return Err(failed(
                &key,
                "two records convert to the same primary key (one would be lost)".to_owned(),
            ));
        }
        tree.put(model)?;
        report(MigrationStage::Writing, done as u64 + 1);
    }
    Ok(())
}
