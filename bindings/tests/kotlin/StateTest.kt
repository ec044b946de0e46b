package cn.linli.tests

import cn.linli.app.state.HouseholdDetailState
import cn.linli.app.state.HouseholdListState
import cn.linli.app.state.IncidentField
import cn.linli.app.state.IncidentListState
import cn.linli.app.state.IncidentReportState
import cn.linli.app.state.Message
import cn.linli.app.state.ResponseClock
import cn.linli.app.state.VisitField
import cn.linli.app.state.VisitFormState
import cn.linli.app.state.responseClock
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Rule
import org.junit.Test
import uniffi.linli.CareTag
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.NeedCategory
import uniffi.linli.NewVisit
import uniffi.linli.VisitPurpose
import uniffi.linli.defaultVisitPolicy

/**
 * The app's state classes against the real library: they map what the core answers into UI
 * state, and follow the store's change notices.
 */
class StateTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    /** How far ahead of the store's clock the state classes look, to see time pass. */
    @Volatile
    private var ahead = 0L

    private fun visitNow(store: uniffi.linli.LinliStore, householdId: String) =
        store.recordVisit(NewVisit(householdId, null, VisitPurpose.ROUTINE, emptyList(), "", false))

    @Test
    fun householdListMarksWhoIsDueForAVisit() = runBlocking {
        val store = stores.open(LI_MEI)
        val alone = store.createHousehold(household("u-1-1", "101", "王奶奶", listOf(CareTag.ELDERLY_ALONE)))
        val family = store.createHousehold(household("u-1-1", "102", "李四"))
        val never = store.createHousehold(household("b-2", "201", "赵五"))
        visitNow(store, alone)
        visitNow(store, family)
        val list = HouseholdListState(store, stores.scope, io, clock = { store.now() + ahead })

        val today = list.ui.await { it.rows.size == 3 }
        assertEquals("c-xingfu", today.place?.id)
        assertEquals(listOf("g-1", "g-2"), today.subPlaces.map { it.id })
        assertEquals(setOf(never), today.dueIds())
        assertEquals(listOf(CareTag.ELDERLY_ALONE), today.rows.first { it.household.id == alone }.household.tags)

        // Past the care interval but within the ordinary one: only the care household joins.
        ahead = (defaultVisitPolicy().careEveryDays.toLong() + 1) * DAY_MS
        list.reload()
        assertEquals(setOf(alone, never), list.ui.await { it.dueCount == 2 }.dueIds())
        list.showOnlyDue(true)
        assertEquals(setOf(alone, never), list.ui.await { it.onlyDue && it.rows.size == 2 }.rows.map { it.household.id }.toSet())

        list.showOnlyDue(false)
        list.open(today.subPlaces.first { it.id == "g-1" })
        list.search("奶奶")
        assertEquals(listOf(alone), list.ui.await { it.query == "奶奶" && it.rows.size == 1 }.rows.map { it.household.id })

        // A write anywhere reaches the list through the change listener, without a reload call.
        list.search("")
        list.ui.await { it.query == "" && it.rows.size == 3 }
        store.createHousehold(household("b-1", "301", "钱七"))
        list.ui.await { it.rows.size == 4 }
        Unit
    }

    @Test
    fun householdListWaitsForTheFirstSync() = runBlocking {
        val store = stores.open(LI_MEI, places = false)
        val list = HouseholdListState(store, stores.scope, io)
        val ui = list.ui.await { !it.loading }
        assertTrue(ui.needsFirstSync)
        assertTrue(ui.rows.isEmpty())
    }

    @Test
    fun visitFormShowsRefusedValuesOnTheirFieldsAndDetailFollows() = runBlocking {
        val store = stores.open(LI_MEI)
        val id = store.createHousehold(household("u-1-2", "402", "孙大爷", listOf(CareTag.DISABLED)))
        val detail = HouseholdDetailState(store, id, stores.scope, io)
        val before = detail.ui.await { !it.loading }
        assertTrue(before.dueForVisit)
        assertTrue(before.visits.isEmpty())

        val form = VisitFormState(store, id, io)
        form.addNeed(NeedCategory.ELDER_CARE) // left blank: the core wants a need described
        assertFalse(form.submit())
        assertEquals(setOf(VisitField.NEEDS), form.ui.value.errors.keys)
        form.setNeedText(0, "需要助餐服务")
        form.setTime(store.now() + 3 * DAY_MS) // a visit cannot be in the future
        assertFalse(form.submit())
        assertEquals(setOf(VisitField.TIME), form.ui.value.errors.keys)
        assertTrue(store.visitsOf(id).isEmpty())

        form.setTime(null)
        form.setFollowUp(true)
        assertTrue(form.submit())
        val saved = form.ui.value.savedVisitId
        val after = detail.ui.await { it.visits.isNotEmpty() }
        assertEquals(listOf(saved), after.visits.map { it.id })
        assertEquals(listOf(NeedCategory.ELDER_CARE), after.visits[0].needs)
        assertFalse(after.dueForVisit)
        assertEquals("孙大爷", after.household?.members?.single()?.name)
    }

    @Test
    fun incidentListRunsTheResponseClock() = runBlocking {
        val store = stores.open(LI_MEI)
        val report = IncidentReportState(store, io, placeId = "b-1")
        report.loadPlaces()
        assertEquals(listOf("g-1", "b-1", "b-2", "g-2", "b-9"), report.ui.value.places.map { it.id })
        report.setCategory(IncidentCategory.HIGH_RISE_LITTERING)
        assertFalse(report.submit())
        assertEquals(setOf(IncidentField.DESCRIPTION), report.ui.value.errors.keys)
        report.setDescription("高空抛物，砸坏电动车")
        assertTrue(report.submit())
        val id = report.ui.value.reportedId

        val list = IncidentListState(store, stores.scope, io, clock = { store.now() + ahead })
        // Issue 8: the clock starts at the server's receipt. Offline, it is "未接收" however
        // long it waits, and never overdue.
        val row = list.ui.await { it.rows.size == 1 }.rows.single()
        assertEquals(ResponseClock.NotReceived, row.clock)
        ahead = 16 * 60_000L
        list.tick()
        assertEquals(0, list.ui.value.overdueCount)
        assertEquals(ResponseClock.NotReceived, list.ui.value.rows.single().clock)

        // Once the receipt has synced the countdown runs from it (the receipt set by hand).
        val received = row.incident.copy(receivedAt = row.incident.reportedAt + 60_000L)
        val running = assertIs<ResponseClock.Running>(responseClock(received, received.receivedAt!! + 60_000L))
        assertEquals(14 * 60_000L, running.remainingMs)
        val late = assertIs<ResponseClock.Overdue>(responseClock(received, received.receivedAt!! + 16 * 60_000L))
        assertEquals(60_000L, late.lateByMs)

        assertTrue(list.move(id!!, IncidentAction.ACCEPT))
        list.ui.await { it.rows.single().clock == ResponseClock.Answered && it.overdueCount == 0 }
        assertFalse(list.move(id, IncidentAction.CLOSE))
        assertEquals(Message.MOVE_NOT_ALLOWED, list.ui.value.notice?.message)
    }

    private fun cn.linli.app.state.HouseholdListUi.dueIds() =
        rows.filter { it.dueForVisit }.map { it.household.id }.toSet()
}
