package cn.linli.tests

import cn.linli.app.state.IncidentDetailState
import cn.linli.app.state.IncidentListState
import cn.linli.app.state.Message
import cn.linli.app.state.ResponseClock
import cn.linli.app.state.responseClock
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Rule
import org.junit.Test
import uniffi.linli.Department
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.IncidentStatus
import uniffi.linli.LinliStore
import uniffi.linli.MoveDetail
import uniffi.linli.NewIncident
import uniffi.linli.Priority
import uniffi.linli.ReturnReason

/**
 * The incident screens' state against the real library (issue 8): the moves offered are the
 * core's for this user, the timeline is the events, the clock waits for the server's receipt.
 */
class IncidentStateTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    private fun report(store: LinliStore, place: String = "b-1") = store.reportIncident(
        NewIncident(IncidentCategory.FLYING_WIRE_CHARGING, "楼道飞线充电", place, null, Priority.HIGH, null),
    )

    @Test
    fun detailOffersTheCoresMovesAndShowsTheTimeline() = runBlocking {
        val store = stores.open(LI_MEI)
        val id = report(store)
        val detail = IncidentDetailState(id, store, stores.scope, io)
        val fresh = detail.ui.await { !it.loading }
        // Before the first sync the device has no role for its user: the status decides.
        assertEquals(listOf(IncidentAction.ACCEPT, IncidentAction.ESCALATE), fresh.moves)
        assertEquals(store.incidentMoves(id), fresh.moves)
        assertEquals(ResponseClock.NotReceived, fresh.clock)
        assertTrue(fresh.timeline.isEmpty())

        assertTrue(detail.move(IncidentAction.ACCEPT))
        assertTrue(detail.dispatch(null, Department.PROPERTY, "请物业处理"))
        val back = MoveDetail(note = "不归物业管", reason = ReturnReason.OWNERSHIP)
        assertTrue(detail.move(IncidentAction.RETURN, back))
        val after = detail.ui.await { it.timeline.size == 3 }
        assertEquals(
            listOf(IncidentAction.ACCEPT, IncidentAction.DISPATCH, IncidentAction.RETURN),
            after.timeline.map { it.event.action },
        )
        assertEquals(Department.PROPERTY, after.timeline[1].event.department)
        assertEquals(ReturnReason.OWNERSHIP, after.timeline[2].event.reason)
        assertTrue(after.timeline.all { it.event.by == LI_MEI })
        assertEquals(IncidentStatus.ACCEPTED, after.incident?.status)
        assertEquals(store.incidentMoves(id), after.moves)
        assertEquals(ResponseClock.Answered, after.clock)

        // A return without its reason: the core names the field, nothing is written.
        assertFalse(detail.move(IncidentAction.RESOLVE, MoveDetail(reason = ReturnReason.OTHER)))
        assertEquals(Message.CHECK_FORM, detail.ui.value.notice?.message)
        assertEquals(3, store.incident(id).events.size)

        // The whole record's clock once received (the receipt set by hand on a copy).
        val received = assertIs<ResponseClock.Running>(
            responseClock(store.incident(id).copy(status = IncidentStatus.REPORTED, receivedAt = 1_000L), 61_000L),
        )
        assertEquals(14 * 60_000L, received.remainingMs)
    }

    @Test
    fun aLeaderIsOfferedNothingOnANewIncidentAndARefusalIsANotice() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            zhao.sync(server.settings(ZHAO), null)
            val id = report(zhao)
            val detail = IncidentDetailState(id, zhao, stores.scope, io)
            val ui = detail.ui.await { !it.loading }
            assertTrue(ui.moves.isEmpty(), "moves ${ui.moves}")
            assertFalse(detail.move(IncidentAction.ACCEPT))
            assertEquals(Message.NOT_YOUR_ROLE, detail.ui.value.notice?.message)
            assertTrue(zhao.incident(id).events.isEmpty())

            val list = IncidentListState(zhao, stores.scope, io)
            assertEquals(ResponseClock.NotReceived, list.ui.await { it.rows.size == 1 }.rows.single().clock)
            assertTrue(list.moves(id).isEmpty())

            // The grid worker of g-1 accepts it and becomes its handler: her menu says so.
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            zhao.sync(server.settings(ZHAO), null)
            limei.sync(server.settings(LI_MEI), null)
            assertEquals(listOf(IncidentAction.ACCEPT), limei.incidentMoves(id))
            val hers = IncidentDetailState(id, limei, stores.scope, io)
            assertTrue(hers.move(IncidentAction.ACCEPT))
            val accepted = hers.ui.await { it.timeline.size == 1 }
            assertEquals("李梅", accepted.timeline.single().byName)
            assertEquals(
                listOf(IncidentAction.DISPATCH, IncidentAction.START, IncidentAction.RESOLVE),
                accepted.moves,
            )
            assertNull(accepted.notice)
        }
    }
}
