"""Escalation (督办) on the board as the server's clock runs past the 15-minute response
target. A module of its own: moving the server's clock touches every incident it holds."""


def test_a_missed_response_target_raises_the_incident_on_the_open_board(
        signed_in, limei, server):
    late = limei.report("消防通道被堵", place="b-1")
    console = signed_in("user-admin")
    console.board()
    row = console.wait_for_row(late, timeout=5)
    assert (row["level"], row["overdue"]) == ("grid", "false")
    console.mark_page()

    server.advance_clock(20 * 60)

    # The sweep runs every 5 s and the rows refresh every 10 s: 15 s at worst, and a margin.
    row = console.wait_for_row(late, timeout=25, until=lambda r: r["level"] == "community",
                               message="the row was not raised to the community")
    assert console.page_marked(), "the board was reloaded instead of refreshing its rows"
    assert row["overdue"] == "true"
    # The countdown follows the server's clock, not the browser's.
    assert "超时" in (row["countdown"] or ""), row["countdown"]
    console.screenshot("board.png")

    console.incident(late)
    assert console.level() == "community"
    assert console.status() == "reported"
    escalations = console.find_all('ol#timeline li.event[data-action="escalate"]')
    assert len(escalations) == 1, console.timeline()


def test_overdue_and_escalated_rows_come_first(signed_in, limei):
    console = signed_in("user-admin")
    console.board()
    late = [i for i in console.row_ids() if console.row(i)["level"] == "community"]
    assert late, "no escalated row left from the test before"

    fresh = limei.report("垃圾桶满了", place="b-2")
    console.board()
    order = console.row_ids()
    assert fresh in order, order
    row = console.row(fresh)
    assert (row["level"], row["overdue"]) == ("grid", "false")
    assert row["deadline"], f"no countdown in the row: {row['text']}"
    assert max(order.index(i) for i in late) < order.index(fresh), order
