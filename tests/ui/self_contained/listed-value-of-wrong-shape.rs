#[staged::self_contained]
mod plans {
    #[derive(Clone, Copy)]
    pub enum Pred {
        Between { lo: i64, hi: i64 },
        Even,
    }

    #[staged::specialize(plan = [[Pred::Between { lo: 1 }], [Pred::Odd]])]
    pub fn count(xs: &[i64], plan: &[Pred]) -> usize {
        xs.iter()
            .filter(|&&x| {
                plan.iter().all(|p| match *p {
                    Pred::Between { lo, hi } => (lo..=hi).contains(&x),
                    Pred::Even => x % 2 == 0,
                })
            })
            .count()
    }
}

fn main() {}
