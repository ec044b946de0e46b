package cn.linli.tests

import cn.linli.app.state.Message
import cn.linli.app.state.NeedsState
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Rule
import org.junit.Test
import uniffi.linli.IncidentCategory
import uniffi.linli.LinliStore
import uniffi.linli.Need
import uniffi.linli.NeedAction
import uniffi.linli.NeedCategory
import uniffi.linli.NeedStatus
import uniffi.linli.NewNeed
import uniffi.linli.NewVisit
import uniffi.linli.Priority
import uniffi.linli.VisitPurpose

/**
 * The needs screen's state against the real library (issue 10): a visit's needs become
 * follow-ups, the two lists follow the moves, a refused move is a notice, 转事件 keeps the link,
 * and a need raised on 李梅's phone is due on the building leader's after a real sync.
 */
class NeedsStateTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    /** A household in unit 1-1 visited now; its visit raised [needs]. Returns the visit id. */
    private fun visited(store: LinliStore, room: String, vararg needs: Need): String {
        val hh = store.createHousehold(household("u-1-1", room, "张秀英"))
        return store.recordVisit(
            NewVisit(hh, null, VisitPurpose.ASK_NEEDS, needs.toList(), "", true),
        )
    }

    @Test
    fun listsFollowTheMoves() = runBlocking<Unit> {
        val store = stores.open(LI_MEI)
        val visit = visited(store, "301", Need(NeedCategory.REPAIR, "厨房水管漏水"))
        val care = store.raiseNeed(NewNeed(visit, NeedCategory.ELDER_CARE, "想申请助餐"))
        val state = NeedsState(store, stores.scope, io)
        val fresh = state.ui.await { !it.loading && it.open.size == 2 }
        // The earliest due first: elder care in a day, the repair in three.
        assertEquals(care, fresh.open[0].need.id)
        assertEquals(NeedCategory.REPAIR, fresh.open[1].need.category)
        assertEquals(listOf(care), fresh.due.map { it.need.id })
        assertEquals(0, fresh.overdueCount)
        val repair = fresh.open[1].need.id
        assertEquals(
            listOf(NeedAction.TAKE, NeedAction.DONE, NeedAction.ASSIGN, NeedAction.RESCHEDULE),
            state.moves(repair),
        )

        assertTrue(state.take(repair))
        assertTrue(state.reschedule(repair, 5L))
        val rescheduled = state.ui.await { it.open.firstOrNull()?.need?.id == repair }
        assertEquals(NeedStatus.IN_HAND, rescheduled.open[0].need.status)
        assertTrue(rescheduled.open[0].overdue)
        assertEquals(1, rescheduled.overdueCount)
        assertEquals(listOf(repair, care), rescheduled.due.map { it.need.id })

        assertTrue(state.done(repair, "已修好"))
        state.ui.await { it.open.size == 1 }
        // Done: taking it again is refused, as a notice, and nothing is written.
        assertFalse(state.take(repair))
        assertEquals(Message.NEED_MOVED_ON, state.ui.value.notice?.message)
        assertEquals(3, store.need(repair).events.size)
        assertTrue(state.reopen(repair))
        state.ui.await { it.open.size == 2 && it.notice == null }

        assertTrue(state.assign(care, ZHAO))
        state.ui.await { it.open.any { r -> r.need.id == care && r.need.owner == ZHAO } }
        // Another place: none of these.
        state.setPlace("b-2")
        state.ui.await { it.placeId == "b-2" && it.open.isEmpty() && it.due.isEmpty() }
        state.setPlace("u-1-1")
        state.ui.await { it.placeId == "u-1-1" && it.open.size == 2 }
    }

    @Test
    fun aNeedBecomesAnIncident() = runBlocking<Unit> {
        val store = stores.open(LI_MEI)
        visited(store, "302", Need(NeedCategory.REPAIR, "楼道灯坏了"))
        val state = NeedsState(store, stores.scope, io)
        val need = state.ui.await { it.open.size == 1 }.open[0].need
        val incident = assertNotNull(state.toIncident(need.id, IncidentCategory.SAFETY_HAZARD, Priority.HIGH))
        state.ui.await { it.open.isEmpty() }
        assertEquals(NeedStatus.REFERRED, store.need(need.id).status)
        assertEquals(incident, store.need(need.id).incidentId)
        assertEquals(need.id, store.incidentNeed(incident))
        assertEquals("楼道灯坏了", store.incident(incident).description)
        // Referred is final.
        assertEquals(null, state.toIncident(need.id, IncidentCategory.SAFETY_HAZARD, Priority.HIGH))
        assertEquals(Message.NEED_MOVED_ON, state.ui.value.notice?.message)
    }

    @Test
    fun aNeedRaisedOnLiMeisPhoneIsDueOnTheLeadersAfterSync() = runBlocking<Unit> {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            limei.sync(server.settings(LI_MEI), null)
            zhao.sync(server.settings(ZHAO), null)
            val leader = NeedsState(zhao, stores.scope, io, horizonMs = 2 * DAY_MS)
            assertTrue(leader.ui.await { !it.loading }.due.isEmpty())

            visited(limei, "303", Need(NeedCategory.ELDER_CARE, "独居老人需要助餐"))
            limei.sync(server.settings(LI_MEI), null)
            zhao.sync(server.settings(ZHAO), null)
            val due = leader.ui.await { it.due.size == 1 }.due[0].need
            assertEquals(LI_MEI, due.owner)
            assertEquals(NeedCategory.ELDER_CARE, due.category)

            // The leader takes it; 李梅's phone shows it in hand after her sync.
            assertTrue(leader.take(due.id))
            zhao.sync(server.settings(ZHAO), null)
            val mine = NeedsState(limei, stores.scope, io)
            limei.sync(server.settings(LI_MEI), null)
            val taken = mine.ui.await { it.open.firstOrNull()?.need?.status == NeedStatus.IN_HAND }
            assertEquals(ZHAO, taken.open[0].need.owner)
        }
    }
}
