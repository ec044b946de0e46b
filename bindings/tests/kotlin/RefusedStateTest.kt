package cn.linli.tests

import cn.linli.app.state.IncidentField
import cn.linli.app.state.IncidentReportState
import cn.linli.app.state.Message
import cn.linli.app.state.RefusedState
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Rule
import org.junit.Test
import uniffi.linli.Discarded
import uniffi.linli.DocKind
import uniffi.linli.IncidentCategory
import uniffi.linli.NewIncident
import uniffi.linli.Priority
import uniffi.linli.PushOutcome

/**
 * Issue 10 through a real `linli-demo`: the incident picker offers only the grid worker's
 * places; records the server refused are listed with why, fixed or discarded.
 */
class RefusedStateTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    @Test
    fun thePickerOffersOnlyMyPlacesAndAWriteOutsideIsRefused() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            limei.sync(server.settings(LI_MEI), null)
            val report = IncidentReportState(limei, io, placeId = "b-9")
            report.loadPlaces()
            assertEquals(listOf("g-1", "b-1", "b-2"), report.ui.value.places.map { it.id })

            // b-9 is grid 2's: refused on the phone, on the place field, nothing written.
            report.setDescription("楼道堆放杂物")
            assertFalse(report.submit())
            assertEquals(setOf(IncidentField.PLACE), report.ui.value.errors.keys)
            assertTrue(limei.incidents(uniffi.linli.IncidentFilter(emptyList(), null, null)).isEmpty())
            report.setPlace("b-1")
            assertTrue(report.submit())
        }
    }

    @Test
    fun refusedRecordsAreListedThenFixedOrDiscarded() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            // Written offline before the first sync brought Li Mei's grants: the phone let them be.
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId)
            val stray = limei.createHousehold(household("b-9", "101", "王建国"))
            val noise = limei.reportIncident(
                NewIncident(IncidentCategory.NOISE, "深夜装修", "b-9", null, Priority.NORMAL, null, null),
            )
            val parking = limei.reportIncident(
                NewIncident(IncidentCategory.PARKING, "消防通道停车", "b-9", null, Priority.HIGH, null, null),
            )
            val refused = RefusedState(limei, stores.scope, io)
            assertTrue(refused.ui.await { !it.loading }.rows.isEmpty())

            val first = limei.sync(server.settings(LI_MEI), null)
            assertEquals(setOf(stray, noise, parking), first.refused.map { it.docId }.toSet())
            val listed = refused.ui.await { it.rows.size == 3 }
            assertTrue(listed.rows.all { it.outcome == PushOutcome.OUT_OF_SCOPE })
            val row = listed.rows.single { it.docId == stray }
            assertEquals(DocKind.HOUSEHOLD, row.kind)
            assertTrue("101" in row.label)
            assertEquals(setOf("b-1", "b-2", "u-1-1", "u-1-2", "u-2-1", "u-2-2"), listed.fixPlaces.map { it.id }.toSet())

            // Not sent again unchanged: no repeated refusal.
            val second = limei.sync(server.settings(LI_MEI), null)
            assertTrue(second.refused.isEmpty())
            assertEquals(0u, second.progress.docsUp)

            // A fix outside her places is refused on the phone; inside, it is written...
            assertFalse(refused.moveTo(row, "u-9-1"))
            assertEquals(Message.OUTSIDE_MY_PLACES, refused.ui.value.notice?.message)
            assertTrue(refused.moveTo(row, "u-1-1"))
            assertNull(refused.ui.value.notice)
            // An incident is fixed by its place.
            assertTrue(refused.moveTo(listed.rows.single { it.docId == parking }, "b-2"))
            // ...and the next sync takes them.
            val third = limei.sync(server.settings(LI_MEI), null)
            assertTrue(third.refused.isEmpty())
            assertEquals(2u, third.progress.docsUp)
            refused.ui.await { ui -> ui.rows.map { it.docId } == listOf(noise) }

            // The incident is discarded: the server never had it, so it is gone.
            assertEquals(Discarded.DELETED, refused.discard(noise))
            refused.ui.await { it.rows.isEmpty() }
            assertEquals(0u, limei.syncState().pendingDocs)
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            zhao.sync(server.settings(ZHAO), null)
            assertTrue(zhao.householdsIn("b-1").any { it.id == stray })
        }
    }
}
