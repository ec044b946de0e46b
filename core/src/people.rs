//! The people of the device's scope (reference data from the server): names for visitors,
//! reporters and assignees.

use rusqlite::{Transaction, params};

use crate::db::lock;
use crate::error::Result;
use crate::protocol::{Person, Role};
use crate::store::Store;

impl Store {
    /// The people of this device's scope, by name (from the server's reference data).
    pub fn people(&self) -> Result<Vec<Person>> {
        let r = lock(&self.reader);
        let mut stmt = r.prepare_cached("SELECT id, name, role FROM people ORDER BY name, id")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, role) = row?;
            // A role this app does not know (from a newer server) is left out, not an error.
            if let Some(role) = Role::from_code(&role) {
                out.push(Person { id, name, role });
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Replaces the people held, as the server's reference data does (tests set up roles
    /// with it).
    #[doc(hidden)]
    pub fn put_people_for_tests(&self, people: &[Person]) -> Result<()> {
        self.transaction(|tx| replace(tx, people))
    }
}

/// Replaces the people held with `people`, in the caller's transaction.
pub(crate) fn replace(tx: &Transaction<'_>, people: &[Person]) -> Result<()> {
    tx.execute("DELETE FROM people", [])?;
    let mut stmt = tx.prepare_cached("INSERT INTO people (id, name, role) VALUES (?1, ?2, ?3)")?;
    for p in people {
        stmt.execute(params![p.id, p.name, p.role.code()])?;
    }
    Ok(())
}
