//! The order of a vehicle's photos. The first is the cover (on the list, the
//! receipt, and first in the gallery), so choosing a cover is moving a photo
//! to the front: one rule, nothing to keep in step.

/// Where an editor moves a photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// To the front: it becomes the cover.
    First,
    /// One place earlier.
    Earlier,
    /// One place later.
    Later,
}

impl Move {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "first" => Some(Self::First),
            "earlier" => Some(Self::Earlier),
            "later" => Some(Self::Later),
            _ => None,
        }
    }
}

/// `order` (photo ids, cover first) with `id` moved; `None` when `id` is not
/// in it. Moving the first earlier, or the last later, changes nothing.
pub fn moved(order: &[i64], id: i64, to: Move) -> Option<Vec<i64>> {
    let at = order.iter().position(|&p| p == id)?;
    let mut out = order.to_vec();
    match to {
        Move::First => {
            let photo = out.remove(at);
            out.insert(0, photo);
        }
        Move::Earlier if at > 0 => out.swap(at, at - 1),
        Move::Later if at + 1 < out.len() => out.swap(at, at + 1),
        Move::Earlier | Move::Later => {}
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn moves_go_where_their_buttons_say() {
        let order = [10, 20, 30, 40];
        assert_eq!(moved(&order, 30, Move::First), Some(vec![30, 10, 20, 40]));
        assert_eq!(moved(&order, 30, Move::Earlier), Some(vec![10, 30, 20, 40]));
        assert_eq!(moved(&order, 30, Move::Later), Some(vec![10, 20, 40, 30]));
        assert_eq!(moved(&order, 10, Move::Earlier), Some(order.to_vec()));
        assert_eq!(moved(&order, 40, Move::Later), Some(order.to_vec()));
        assert_eq!(moved(&order, 10, Move::First), Some(order.to_vec()));
        assert_eq!(moved(&order, 99, Move::First), None);
    }

    #[test]
    fn only_the_three_moves_parse() {
        assert_eq!(Move::parse("first"), Some(Move::First));
        assert_eq!(Move::parse(" later "), Some(Move::Later));
        assert_eq!(Move::parse("earlier"), Some(Move::Earlier));
        assert_eq!(Move::parse("First"), None);
        assert_eq!(Move::parse(""), None);
    }

    proptest! {
        #[test]
        fn a_move_keeps_every_photo_once(
            len in 1usize..12,
            pick in any::<prop::sample::Index>(),
            to in prop_oneof![Just(Move::First), Just(Move::Earlier), Just(Move::Later)],
        ) {
            let order: Vec<i64> = (1..=len as i64).collect();
            let id = order[pick.index(len)];
            let out = moved(&order, id, to).unwrap();
            let mut sorted = out.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, order.clone());
            let before = order.iter().position(|&p| p == id).unwrap();
            let after = out.iter().position(|&p| p == id).unwrap();
            match to {
                Move::First => prop_assert_eq!(after, 0),
                Move::Earlier => prop_assert_eq!(after, before.saturating_sub(1)),
                Move::Later => prop_assert_eq!(after, (before + 1).min(len - 1)),
            }
        }
    }
}
