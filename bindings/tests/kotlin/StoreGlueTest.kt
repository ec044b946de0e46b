package cn.linli.tests

import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.Rule
import org.junit.Test
import uniffi.linli.ChangeListener
import uniffi.linli.DataChange
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.IncidentFilter
import uniffi.linli.IncidentStatus
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.Need
import uniffi.linli.NeedCategory
import uniffi.linli.NewIncident
import uniffi.linli.NewMember
import uniffi.linli.NewVisit
import uniffi.linli.Priority
import uniffi.linli.Relation
import uniffi.linli.VisitPurpose

/**
 * The generated API over the real library: records, enums, errors and callbacks cross the
 * FFI intact. What the core computes is the Rust tests' business; here it is the crossing.
 */
class StoreGlueTest {
    @get:Rule
    val stores = TempStores()

    @Test
    fun recordedVisitShowsInHistory() {
        val store = stores.open(LI_MEI)
        val id = store.createHousehold(household("u-1-1", "101", "王张三丰"))
        val visitId = store.recordVisit(
            NewVisit(
                householdId = id,
                at = null,
                purpose = VisitPurpose.ASK_NEEDS,
                needs = listOf(Need(NeedCategory.REPAIR, "楼道灯坏了")),
                doneOnSpot = "已联系物业",
                followUp = true,
            ),
        )

        val visits = store.visitsOf(id)
        assertEquals(listOf(visitId), visits.map { it.id })
        assertEquals(listOf(NeedCategory.REPAIR), visits[0].needs)
        assertEquals(LI_MEI, visits[0].visitor)
        assertTrue(visits[0].followUp)
        val visit = store.household(id).visits.single()
        assertEquals("楼道灯坏了", visit.needs.single().text)
        assertEquals("已联系物业", visit.doneOnSpot)
        assertEquals(id, store.householdsIn("g-1").single().id)
        assertTrue(store.history(id).all { it.userId == LI_MEI })
    }

    @Test
    fun searchesInChinese() {
        val store = stores.open(LI_MEI)
        val wang = store.createHousehold(household("u-1-1", "101", "王张三丰"))
        store.createHousehold(household("b-2", "201", "李四"))

        // Two characters take the per-character index, three or more the trigram index.
        for (query in listOf("张三", "三丰", "王张三丰")) {
            assertEquals(listOf(wang), store.searchHouseholds(query, 10u).map { it.id }, query)
        }
        assertEquals("王张三丰", store.searchHouseholds("张三", 10u).single().headName)
        assertTrue(store.searchHouseholds("赵六", 10u).isEmpty())
    }

    @Test
    fun incidentMovesAlongItsLoop() {
        val store = stores.open(LI_MEI)
        val id = store.reportIncident(
            NewIncident(IncidentCategory.FLYING_WIRE_CHARGING, "楼道飞线充电", "b-1", null, Priority.HIGH, null),
        )
        assertEquals(IncidentStatus.REPORTED, store.incident(id).status)

        assertEquals(IncidentStatus.ACCEPTED, store.moveIncident(id, IncidentAction.ACCEPT, ""))
        val illegal = assertFailsWith<LinliException.IllegalTransition> {
            store.moveIncident(id, IncidentAction.CLOSE, "")
        }
        assertEquals(IncidentStatus.ACCEPTED, illegal.from)
        assertEquals(IncidentAction.CLOSE, illegal.action)
        assertEquals(IncidentStatus.RESOLVED, store.moveIncident(id, IncidentAction.RESOLVE, "已拆除飞线"))

        val incident = store.incident(id)
        assertEquals(listOf(IncidentAction.ACCEPT, IncidentAction.RESOLVE), incident.events.map { it.action })
        assertEquals("已拆除飞线", incident.events.last().note)
        assertEquals(LI_MEI, incident.assignee)
        val resolved = store.incidents(IncidentFilter(listOf(IncidentStatus.RESOLVED), null, "g-1")).single()
        assertEquals(id, resolved.id)
        assertNotNull(resolved.acceptedAt)
    }

    @Test
    fun refusedInputNamesTheField() {
        val store = stores.open(LI_MEI)
        fun field(write: () -> Unit) = assertFailsWith<LinliException.InvalidInput> { write() }.field

        assertEquals("room", field { store.createHousehold(household("b-1", " ", "王五")) })
        assertEquals("phone", field {
            val id = store.createHousehold(household("b-1", "102", "王五"))
            store.addMember(id, NewMember("王小五", Relation.CHILD, null, "12345", null))
        })
        assertEquals("place", field {
            store.reportIncident(NewIncident(IncidentCategory.NOISE, "夜间噪音", null, null, Priority.NORMAL, null))
        })
        assertEquals("device_id", field { LinliStore.open("${stores.dir}/x.db", "not-a-uuid", LI_MEI, DB_KEY) })
        assertEquals("household", assertFailsWith<LinliException.NotFound> { store.household("nope") }.kind)
        // The refused writes left nothing behind but the one valid household.
        assertEquals(1, store.householdsIn("c-xingfu").size)
    }

    @Test
    fun changeListenerHearsWrites() {
        val store = stores.open(LI_MEI)
        val heard = LinkedBlockingQueue<DataChange>()
        val subscription = store.subscribe(object : ChangeListener {
            override fun onChange(change: DataChange) {
                heard += change
            }
        })

        val household = store.createHousehold(household("b-1", "301", "张三"))
        val change = assertNotNull(heard.poll(5, TimeUnit.SECONDS))
        assertEquals(DataChange(households = true, incidents = false, reference = false, docIds = listOf(household), fromSync = false), change)

        val incident = store.reportIncident(
            NewIncident(IncidentCategory.LEAK_REPAIR, "楼上漏水", null, household, Priority.NORMAL, null),
        )
        val second = assertNotNull(heard.poll(5, TimeUnit.SECONDS))
        assertTrue(second.incidents && incident in second.docIds)

        store.unsubscribe(subscription)
        store.setTag(household, uniffi.linli.CareTag.ELDERLY_ALONE, true)
        assertNull(heard.poll(200, TimeUnit.MILLISECONDS))
    }
}
