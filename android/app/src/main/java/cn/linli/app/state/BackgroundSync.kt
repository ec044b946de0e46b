package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext
import uniffi.linli.Alert
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.SyncReport
import uniffi.linli.SyncSettings

/**
 * Where the alert snapshot is kept between background runs: the app's preferences on the
 * phone ([cn.linli.app.SnapshotPrefs]), memory in tests. The text is the core's own
 * (`LinliStore.alertSnapshot`): ids, statuses, owners and due dates, no names.
 */
interface SnapshotKeeper {
    fun load(): String?
    fun save(text: String)
}

/** A keeper for one process: tests, or a phone before preferences are wired. */
class MemorySnapshotKeeper(private var text: String? = null) : SnapshotKeeper {
    override fun load(): String? = text
    override fun save(text: String) {
        this.text = text
    }
}

/** How a background sync ended, and what the scheduler should do next. */
sealed interface BackgroundOutcome {
    /** Up to date; [alerts] to raise as local notifications, one per key. */
    data class Synced(val report: SyncReport, val alerts: List<Alert>) : BackgroundOutcome

    /** Offline, or the server is unreachable or in trouble: try again later. Nothing is lost. */
    data class Retry(val notice: Notice) : BackgroundOutcome

    /** The token was refused or the device revoked (or the app is too old): stop until the
     * user acts; retrying would only fail again. */
    data class Stop(val notice: Notice) : BackgroundOutcome
}

/**
 * One sync run without a screen: what WorkManager's worker (Android) and background refresh
 * (iOS) call, periodically and when the network comes back. The core says what the sync
 * brought for this user (a new assignment, an escalation, a follow-up falling due) between
 * the snapshot kept from the last run and one taken after this sync; the shell only posts
 * the alerts. The first run takes its "before" just before syncing, so signing in does not
 * replay the past. Plain Kotlin, tested on the JVM against the real library and a real server.
 */
class BackgroundSync(
    private val store: LinliStore,
    private val settings: SyncSettings,
    private val io: CoroutineDispatcher,
    private val keeper: SnapshotKeeper,
) {
    suspend fun run(): BackgroundOutcome = withContext(io) {
        val before = try {
            keeper.load() ?: store.alertSnapshot(store.now())
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            return@withContext BackgroundOutcome.Retry(e.toNotice())
        }
        val report = try {
            store.sync(settings, null)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            return@withContext outcomeOf(e)
        }
        BackgroundOutcome.Synced(report, alertsSince(before))
    }

    /** The alerts since [before], keeping the new snapshot. A kept text the core refuses
     * (from an older app, or damaged) is replaced: no alerts this once, never a crash. */
    private fun alertsSince(before: String): List<Alert> {
        val now = store.now()
        val after = try {
            store.alertSnapshot(now)
        } catch (e: LinliException) {
            return emptyList()
        }
        val alerts = try {
            store.alertsBetween(before, after, store.userId(), now)
        } catch (e: LinliException.InvalidInput) {
            emptyList()
        }
        keeper.save(after)
        return alerts
    }

    private fun outcomeOf(e: Exception): BackgroundOutcome = when (e) {
        is LinliException.Unauthorized, is LinliException.Revoked, is LinliException.UnsupportedVersion ->
            BackgroundOutcome.Stop(e.toNotice())
        else -> BackgroundOutcome.Retry(e.toNotice())
    }
}
