//! Splitting CPU-bound work over the machine's cores, for the few places where one command does
//! a lot of it at once (validating a thousand jobs, previewing a hundred thousand fire times).

/// Below this cost a task runs on the calling thread: spawning costs more than it saves.
const PARALLEL_THRESHOLD: usize = 20_000;

/// Applies `work` to consecutive chunks of `items`, one chunk per core when `cost` (a rough
/// count of the unit operations involved) makes that worth it. Results come back in chunk
/// order; a panic in a worker is re-raised here.
pub fn in_chunks<T: Sync, R: Send>(
    items: &[T],
    cost: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = if cost < PARALLEL_THRESHOLD {
        1
    } else {
        cores.min(items.len()).max(1)
    };
    if workers == 1 {
        return vec![work(items)];
    }
    let chunk = items.len().div_ceil(workers);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_whether_split_or_not() {
        let items: Vec<u64> = (0..1000).collect();
        for cost in [10, 1_000_000] {
            let sums = in_chunks(&items, cost, |chunk| chunk.iter().sum::<u64>());
            assert_eq!(sums.iter().sum::<u64>(), 499_500);
            let firsts: Vec<u64> = in_chunks(&items, cost, |chunk| chunk[0]);
            assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
        }
    }
}
