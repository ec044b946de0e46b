package cn.linli.tests

import cn.linli.app.state.BackgroundOutcome
import cn.linli.app.state.BackgroundSync
import cn.linli.app.state.IncidentListState
import cn.linli.app.state.IncidentView
import cn.linli.app.state.MemorySnapshotKeeper
import cn.linli.app.state.Message
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Rule
import org.junit.Test
import uniffi.linli.AlertKind
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.IncidentStatus
import uniffi.linli.Level
import uniffi.linli.LinliStore
import uniffi.linli.MoveDetail
import uniffi.linli.Need
import uniffi.linli.NeedCategory
import uniffi.linli.NewIncident
import uniffi.linli.NewVisit
import uniffi.linli.VisitPurpose
import uniffi.linli.Priority
import uniffi.linli.Rating
import uniffi.linli.SyncSettings

private const val ADMIN = "user-admin"

/**
 * Sync without a screen (issue 10, item 6): the run WorkManager and iOS background refresh
 * make, through a real `linli-demo`. A dispatch to this user and an escalation come back as
 * alerts (one local notification each); offline means "retry later", a refused token "stop".
 * Also the incident list's views: assigned to me, escalated, waiting for feedback.
 */
class BackgroundSyncTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    private fun LinliStore.report(text: String) = reportIncident(
        NewIncident(IncidentCategory.LEAK_REPAIR, text, "b-1", null, Priority.NORMAL, null),
    )

    @Test
    fun aDispatchAndAnEscalationBecomeAlerts() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            val admin = stores.open(ADMIN, server.device(ADMIN).deviceId, places = false)
            val kept = MemorySnapshotKeeper()
            val background = BackgroundSync(limei, server.settings(LI_MEI), io, kept)
            val first = assertIs<BackgroundOutcome.Synced>(background.run())
            assertTrue(first.alerts.isEmpty(), "${first.alerts}")

            // The admin takes a call, accepts it and dispatches it to 李梅.
            admin.sync(server.settings(ADMIN), null)
            val leak = admin.report("楼上漏水，滴到客厅")
            val other = admin.report("楼道灯不亮")
            admin.moveIncident(leak, IncidentAction.ACCEPT, "")
            admin.dispatchIncident(leak, LI_MEI, null, "请上门查看")
            admin.sync(server.settings(ADMIN), null)

            val second = assertIs<BackgroundOutcome.Synced>(background.run())
            val assigned = second.alerts.single()
            assertEquals(AlertKind.ASSIGNED, assigned.kind)
            assertEquals(leak, assigned.recordId)
            assertEquals("assigned:$leak", assigned.key)
            // No personal data in what the notification shows: the category, not the text.
            assertEquals("新派单：漏水维修", assigned.summary)
            // Heard once: the next run has nothing new, nor does a new worker (the next
            // WorkManager run) from the snapshot kept between runs.
            assertTrue(assertIs<BackgroundOutcome.Synced>(background.run()).alerts.isEmpty())
            val nextRun = BackgroundSync(limei, server.settings(LI_MEI), io, MemorySnapshotKeeper(kept.load()))
            assertTrue(assertIs<BackgroundOutcome.Synced>(nextRun.run()).alerts.isEmpty())

            // The admin escalates it (督办): an escalation alert.
            admin.sync(server.settings(ADMIN), null)
            admin.moveIncidentWith(leak, IncidentAction.ESCALATE, MoveDetail(note = "督办", level = Level.COMMUNITY))
            admin.sync(server.settings(ADMIN), null)
            val third = assertIs<BackgroundOutcome.Synced>(background.run())
            assertEquals(listOf("escalated:$leak:community"), third.alerts.map { it.key })
            assertEquals(AlertKind.ESCALATED, third.alerts.single().kind)

            // The list's views on her phone.
            val list = IncidentListState(limei, stores.scope, io)
            val all = list.ui.await { !it.loading && it.rows.size == 2 }
            assertEquals(2, all.counts[IncidentView.ALL])
            assertEquals(1, all.counts[IncidentView.ASSIGNED_TO_ME])
            assertEquals(1, all.counts[IncidentView.ESCALATED])
            assertEquals(0, all.counts[IncidentView.AWAITING_FEEDBACK])
            list.setView(IncidentView.ASSIGNED_TO_ME)
            assertEquals(listOf(leak), list.ui.value.rows.map { it.incident.id })
            list.setView(IncidentView.ESCALATED)
            assertEquals(listOf(leak), list.ui.value.rows.map { it.incident.id })
            // She fixes it; it waits for the resident's feedback (回访).
            limei.moveIncident(leak, IncidentAction.START, "")
            limei.moveIncident(leak, IncidentAction.RESOLVE, "已修好")
            list.setView(IncidentView.AWAITING_FEEDBACK)
            val waiting = list.ui.await { it.rows.size == 1 }
            assertEquals(leak, waiting.rows.single().incident.id)
            assertEquals(IncidentStatus.RESOLVED, waiting.rows.single().incident.status)
            // Feedback captured on the phone by someone other than the resolver closes it.
            background.run()
            admin.sync(server.settings(ADMIN), null)
            admin.moveIncidentWith(leak, IncidentAction.FEEDBACK, MoveDetail(note = "电话回访", rating = Rating.SATISFIED))
            assertEquals(IncidentStatus.CLOSED, admin.incident(leak).status)
            assertTrue(other.isNotEmpty())
        }
    }

    @Test
    fun aFollowUpFallingDueAlertsOnceAndAGarbledSnapshotStartsOver() = runBlocking<Unit> {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId)
            val kept = MemorySnapshotKeeper("not a snapshot")
            val background = BackgroundSync(limei, server.settings(LI_MEI), io, kept)
            // A kept text the core refuses: no alerts, no crash, and a good snapshot kept.
            assertTrue(assertIs<BackgroundOutcome.Synced>(background.run()).alerts.isEmpty())
            val good = kept.load()
            assertTrue(good != null && good != "not a snapshot")

            val hh = limei.createHousehold(household("u-1-1", "302", "张秀英"))
            limei.recordVisit(
                NewVisit(hh, null, VisitPurpose.ASK_NEEDS, listOf(Need(NeedCategory.ELDER_CARE, "想申请助餐")), "", true),
            )
            val need = limei.needsOf(hh).single()
            // Not due yet (elder care: tomorrow): nothing.
            assertTrue(assertIs<BackgroundOutcome.Synced>(background.run()).alerts.isEmpty())
            // Its due date moves to the past: due now, heard once.
            limei.rescheduleNeed(need.id, 1L)
            val due = assertIs<BackgroundOutcome.Synced>(background.run()).alerts
            assertEquals(listOf("follow_up_due:${need.id}"), due.map { it.key })
            assertEquals(AlertKind.FOLLOW_UP_DUE, due.single().kind)
            assertTrue("张秀英" !in due.single().summary)
            assertTrue(assertIs<BackgroundOutcome.Synced>(background.run()).alerts.isEmpty())
        }
    }

    @Test
    fun offlineRetriesAndARefusedTokenStops() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            // Nothing listens on port 1: offline, try again later.
            val offline = BackgroundSync(limei, SyncSettings("http://127.0.0.1:1", "t", null), io, MemorySnapshotKeeper())
            val retry = assertIs<BackgroundOutcome.Retry>(offline.run())
            assertEquals(Message.WILL_SYNC_LATER, retry.notice.message)
            // A token the server does not know: stop until the user signs in again.
            val stranger = BackgroundSync(limei, SyncSettings(server.url, "not-a-token", null), io, MemorySnapshotKeeper())
            val stop = assertIs<BackgroundOutcome.Stop>(stranger.run())
            assertEquals(Message.SIGN_IN_AGAIN, stop.notice.message)
        }
    }
}
