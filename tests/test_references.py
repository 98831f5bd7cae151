"""Case references: per mailbox and year, no gaps and no duplicates, also under concurrency."""

from __future__ import annotations

import threading

from intake.cases.references import allocate_reference


def test_sequence_per_mailbox_and_year(db):
    with db.sessions() as s, s.begin():
        refs = [allocate_reference(s, "ago", "DPO-AGO", 2026)[0] for _ in range(3)]
        refs.append(allocate_reference(s, "wse", "DPO-WSE", 2026)[0])
        refs.append(allocate_reference(s, "ago", "DPO-AGO", 2027)[0])
    assert refs == ["DPO-AGO-2026-0001", "DPO-AGO-2026-0002", "DPO-AGO-2026-0003",
                    "DPO-WSE-2026-0001", "DPO-AGO-2027-0001"]


def test_rolled_back_allocation_leaves_no_gap(db):
    with db.sessions() as s, s.begin():
        allocate_reference(s, "ago", "DPO-AGO", 2026)
    s = db.sessions()
    s.begin()
    assert allocate_reference(s, "ago", "DPO-AGO", 2026)[0] == "DPO-AGO-2026-0002"
    s.rollback()
    s.close()
    with db.sessions() as s, s.begin():
        assert allocate_reference(s, "ago", "DPO-AGO", 2026)[0] == "DPO-AGO-2026-0002"


def test_concurrent_allocation_has_no_gaps_or_duplicates(db):
    workers, per_worker = 6, 15
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_worker):
                with db.sessions() as s:
                    s.begin()
                    _, seq = allocate_reference(s, "ago", "DPO-AGO", 2026)
                    if (n + i) % 4 == 0:  # some transactions fail after allocating
                        s.rollback()
                        continue
                    s.commit()
                with lock:
                    got.append(seq)
        except BaseException as exc:  # reported below, with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(got) == list(range(1, len(got) + 1))
    assert len(got) == sum(1 for n in range(workers) for i in range(per_worker) if (n + i) % 4)


def test_a_block_counts_on_in_memory_and_stores_the_last_number(db):
    from intake.cases.references import ReferenceBlock
    from intake.store.models import ReferenceCounter

    with db.sessions() as s, s.begin():
        block = ReferenceBlock(s)
        refs = [block.allocate("ago", "DPO-AGO", 2026)[0] for _ in range(3)]
        refs.append(block.allocate("ago", "DPO-AGO", 2027)[0])
        block.close()
    assert refs == ["DPO-AGO-2026-0001", "DPO-AGO-2026-0002", "DPO-AGO-2026-0003",
                    "DPO-AGO-2027-0001"]
    with db.sessions() as s, s.begin():
        assert s.get(ReferenceCounter, ("ago", 2026)).last_seq == 3
        assert allocate_reference(s, "ago", "DPO-AGO", 2026)[0] == "DPO-AGO-2026-0004"
