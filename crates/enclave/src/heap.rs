//! A soft heap budget for one job inside the enclave (a script run): the
//! enclave's allocator counts every byte, so code that cannot be trusted to
//! count its own memory (an interpreter) still has a backstop. Crossing the
//! budget ends nothing by itself (an allocator cannot fail safely): it raises
//! a flag that the job polls wherever it can stop cleanly. The hard limit,
//! `heap_max`, still ends the enclave.

/// The budget of the job in progress; dropping it lifts the budget.
#[derive(Debug)]
pub struct RunBudget(());

impl RunBudget {
    /// Allows `bytes` more than are in use now. One budget at a time: the
    /// caller runs one job at a time.
    pub fn start(bytes: usize) -> Self {
        crate::sys::set_heap_budget(crate::sys::heap_used().saturating_add(bytes));
        RunBudget(())
    }
}

impl Drop for RunBudget {
    fn drop(&mut self) {
        crate::sys::set_heap_budget(usize::MAX);
    }
}

/// Whether the heap has grown past the current [`RunBudget`] since it
/// started (to within a megabyte per thread: the allocator counts in
/// batches).
pub fn over_budget() -> bool {
    crate::sys::over_heap_budget()
}
