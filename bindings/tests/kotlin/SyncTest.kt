package cn.linli.tests

import cn.linli.app.state.HouseholdListState
import cn.linli.app.state.Message
import cn.linli.app.state.SyncScreenState
import java.net.ServerSocket
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Rule
import org.junit.Test
import uniffi.linli.ChangeListener
import uniffi.linli.DataChange
import uniffi.linli.LinliException
import uniffi.linli.Need
import uniffi.linli.NeedCategory
import uniffi.linli.NewVisit
import uniffi.linli.SyncSettings
import uniffi.linli.VisitPurpose

/**
 * `suspend fun sync` through a real `linli-demo` on loopback: the async call, its
 * progress callback and its errors cross the FFI, and the state classes follow along.
 */
class SyncTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    @Test
    fun twoPhonesMeetThroughTheServer() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            // A grid worker of g-1 and the building leader of b-1, on their enrolled devices.
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            val limeiSync = SyncScreenState(limei, server.settings(LI_MEI), stores.scope, io)
            val zhaoList = HouseholdListState(zhao, stores.scope, io)
            assertTrue(zhaoList.ui.await { !it.loading }.needsFirstSync)
            assertTrue(limei.placesUnder(null).isEmpty())

            // The first sync brings the place tree and the people.
            limeiSync.sync().join()
            val synced = limeiSync.ui.await { !it.running && it.lastSyncedAt != null }
            assertNull(synced.notice)
            assertTrue(assertNotNull(synced.progress).rounds >= 1u)
            assertEquals(listOf("c-xingfu"), limei.placesUnder(null).map { it.id })
            assertEquals(setOf("b-1", "b-2"), limei.placesUnder("g-1").map { it.id }.toSet())
            assertTrue(limei.people().any { it.id == LI_MEI && it.name == "李梅" })
            zhao.sync(server.settings(ZHAO), null)
            assertEquals("c-xingfu", zhaoList.ui.await { !it.needsFirstSync && it.place != null }.place?.id)

            // Li Mei registers a household in 1栋 and visits it, offline first, then syncs.
            val id = limei.createHousehold(household("u-1-1", "301", "王张三丰"))
            limei.recordVisit(NewVisit(id, null, VisitPurpose.CARE, listOf(Need(NeedCategory.HEALTH, "血压偏高")), "", true))
            assertEquals(1, limeiSync.ui.await { it.pendingChanges == 1 }.pendingChanges)
            limeiSync.sync().join()
            limeiSync.ui.await { !it.running && it.pendingChanges == 0 }

            // Zhao's phone hears the pulled household (from sync's thread) and lists it.
            val heard = LinkedBlockingQueue<DataChange>()
            zhao.subscribe(object : ChangeListener {
                override fun onChange(change: DataChange) {
                    heard += change
                }
            })
            val report = zhao.sync(server.settings(ZHAO), null)
            assertTrue(report.progress.docsDown >= 1u)
            val change = assertNotNull(heard.poll(5, TimeUnit.SECONDS))
            assertTrue(change.fromSync && id in change.docIds)
            zhaoList.ui.await { ui -> ui.rows.any { it.household.id == id } }
            assertEquals(LI_MEI, zhao.visitsOf(id).single().visitor)
            assertEquals(listOf(id), zhao.searchHouseholds("张三", 10u).map { it.id })
        }
    }

    @Test
    fun aListeningPhoneSyncsWhenTheServerSaysItsAreaChanged() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            val limeiSync = SyncScreenState(limei, server.settings(LI_MEI), stores.scope, io)
            limeiSync.sync().join()
            zhao.sync(server.settings(ZHAO), null)

            // Li Mei's open app holds the long poll; Zhao registers a household in 1栋.
            val listening = limeiSync.listen(waitSeconds = 20u)
            limeiSync.ui.await { it.listening }
            val id = zhao.createHousehold(household("u-1-1", "601", "钱九"))
            zhao.sync(server.settings(ZHAO), null)

            // Told by the server, her app syncs on its own, long before the wait runs out.
            withTimeout(10_000) {
                while (limei.householdsIn("b-1").none { it.id == id }) delay(50)
            }
            assertTrue(listening.isActive)
            limeiSync.stopListening()
            listening.join()
            assertEquals(false, limeiSync.ui.await { !it.listening }.listening)
        }
    }

    @Test
    fun offlineKeepsEverythingAndSaysItWillSyncLater() = runBlocking {
        val store = stores.open(LI_MEI)
        val id = store.createHousehold(household("b-1", "501", "周八"))
        val nobody = ServerSocket(0).use { it.localPort } // a port nothing listens on
        val sync = SyncScreenState(store, SyncSettings("http://127.0.0.1:$nobody", "token"), stores.scope, io)
        sync.ui.await { it.pendingChanges == 1 }

        sync.sync().join()
        val ui = sync.ui.value
        assertEquals(Message.WILL_SYNC_LATER, ui.notice?.message)
        assertEquals(false, ui.running)
        assertNull(ui.lastSyncedAt)
        assertEquals(1, sync.ui.await { it.pendingChanges == 1 }.pendingChanges)
        assertEquals("周八", store.household(id).members.single().name)
    }

    @Test
    fun aRecordOutsideTheAreaIsReportedAndStaysOnThePhone() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            // The demo tree holds b-9 of another grid: Li Mei's phone can place a record
            // there, and the server refuses it.
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId)
            val outside = limei.createHousehold(household("b-9", "101", "孙七"))
            limei.createHousehold(household("u-1-1", "302", "钱六"))
            val sync = SyncScreenState(limei, server.settings(LI_MEI), stores.scope, io)
            sync.ui.await { it.pendingChanges == 2 }

            sync.sync().join()
            val ui = sync.ui.await { !it.running && it.lastSyncedAt != null && it.pendingChanges == 1 }
            assertEquals(Message.OUTSIDE_AREA, ui.notice?.message)
            assertEquals(1, ui.notice?.count)
            assertEquals(2u, assertNotNull(ui.progress).docsUp)
            assertEquals("孙七", limei.household(outside).members.single().name)
        }
    }

    @Test
    fun aTokenTheServerDoesNotKnowMeansSignInAgain() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val store = stores.open(LI_MEI, places = false)
            assertFailsWith<LinliException.Unauthorized> {
                store.sync(SyncSettings(server.url, "not-a-token"), null)
            }
            val sync = SyncScreenState(store, SyncSettings(server.url, "not-a-token"), stores.scope, io)
            sync.sync().join()
            assertEquals(Message.SIGN_IN_AGAIN, sync.ui.value.notice?.message)
        }
    }
}
