"""Reading the ledger into metrics: the refresh loop, SpendLogs totals, budgets, families, exposition."""
