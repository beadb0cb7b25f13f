//! The run's sub-accounts: the scenario's, then each trace caller as it first appears, every
//! (account, name) once.

use crate::scenario::SubAccount;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// The sub-accounts in order of appearance, and an index over them that holds positions only: a
/// million callers' names are kept once, in the list (an index keyed by (account, name) held a second
/// copy of each, 120 bytes a caller).
pub(super) struct SubAccounts {
    list: Vec<SubAccount>,
    index: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

fn hash_of(hasher: &foldhash::fast::FixedState, account: usize, name: &str) -> u64 {
    hasher.hash_one((account, name))
}

impl SubAccounts {
    pub(super) fn new(declared: &[SubAccount]) -> SubAccounts {
        let mut subs = SubAccounts { list: Vec::new(), index: HashTable::new(), hasher: Default::default() };
        for s in declared {
            subs.find_or_add(s.account, &s.name);
        }
        subs
    }

    /// The sub-account `name` of `account`, added if new.
    pub(super) fn find_or_add(&mut self, account: usize, name: &str) -> usize {
        let hash = hash_of(&self.hasher, account, name);
        let list = &self.list;
        let same = |&i: &u32| list[i as usize].account == account && list[i as usize].name == name;
        if let Some(&i) = self.index.find(hash, same) {
            return i as usize;
        }
        let i = self.list.len();
        let at = u32::try_from(i).expect("fewer than 2^32 sub-accounts");
        let (list, hasher) = (&self.list, &self.hasher);
        self.index.insert_unique(hash, at, |&j| hash_of(hasher, list[j as usize].account, &list[j as usize].name));
        self.list.push(SubAccount { account, name: name.to_string() });
        i
    }

    pub(super) fn name(&self, sub: usize) -> &str {
        &self.list[sub].name
    }

    pub(super) fn into_list(self) -> Vec<SubAccount> {
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_and_name_is_one_sub_account() {
        let declared = [SubAccount { account: 0, name: "a".into() }, SubAccount { account: 1, name: "a".into() }];
        let mut subs = SubAccounts::new(&declared);
        assert_eq!(subs.find_or_add(1, "a"), 1);
        assert_eq!(subs.find_or_add(0, "b"), 2);
        assert_eq!(subs.find_or_add(0, "a"), 0);
        assert_eq!(subs.find_or_add(0, "b"), 2);
        // Enough to grow the index several times: every one still found where it was put.
        for k in 0..10_000 {
            assert_eq!(subs.find_or_add(k % 3, &format!("caller-{k}")), 3 + k);
        }
        for k in 0..10_000 {
            assert_eq!(subs.find_or_add(k % 3, &format!("caller-{k}")), 3 + k);
        }
        let list = subs.into_list();
        assert_eq!(list.len(), 10_003);
        assert_eq!((list[2].account, list[2].name.as_str()), (0, "b"));
    }
}
