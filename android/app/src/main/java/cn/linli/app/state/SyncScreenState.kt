package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.isActive
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.PushOutcome
import uniffi.linli.SyncListener
import uniffi.linli.SyncProgress
import uniffi.linli.SyncReport
import uniffi.linli.SyncSettings

data class SyncUi(
    val running: Boolean = false,
    /** Counts of the sync under way (or the last one), after each round. */
    val progress: SyncProgress? = null,
    val lastSyncedAt: Long? = null,
    /** Records changed on this phone that the server does not have yet. */
    val pendingChanges: Int = 0,
    /** Why the last sync did not finish cleanly; null after a clean sync. */
    val notice: Notice? = null,
    /** The phone holds the server's long poll and syncs when told ([SyncScreenState.listen]). */
    val listening: Boolean = false,
)

/**
 * The sync button and what it shows. Named for the screen because `uniffi.linli.SyncState`
 * is the core's record this reads.
 *
 * Offline is normal: a network error keeps everything on the phone (it is already written)
 * and says it will sync later. Cancelling the job stops the sync; the next one resumes where
 * the last complete round left off.
 *
 * While the app is open, [listen] holds the server's long poll (`waitForChanges`) and syncs
 * whenever it says the user's area changed, so a dispatch reaches the phone within seconds.
 */
class SyncScreenState(
    store: LinliStore,
    private val settings: SyncSettings,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
) : StoreScreen<SyncUi>(SyncUi(), store, scope, io) {
    private var job: Job? = null
    private var listener: Job? = null

    // Called on sync's worker thread after every round; the state flow is thread-safe.
    private val progressListener = object : SyncListener {
        override fun onProgress(progress: SyncProgress) = update { it.copy(progress = progress) }
    }

    init {
        start()
    }

    /** Starts a sync, or returns the one already running. */
    @Synchronized
    fun sync(): Job = job?.takeIf { it.isActive } ?: scope.launch { run() }.also { job = it }

    @Synchronized
    fun cancel() {
        job?.cancel()
    }

    /**
     * Sync when told: holds the long poll for up to [waitSeconds], and syncs whenever the
     * server says something in the user's area changed; on a network error waits [retryMillis]
     * and asks again. Stops on [stopListening] (or the scope's end), and on a refusal the
     * user must act on (sign in again, revoked, update), which it shows. Returns the loop's
     * job, or the one already running.
     */
    @Synchronized
    fun listen(waitSeconds: UInt = 25u, retryMillis: Long = 5_000): Job =
        listener?.takeIf { it.isActive } ?: scope.launch {
            update { it.copy(listening = true) }
            try {
                while (isActive) {
                    val changed = try {
                        store.waitForChanges(settings, waitSeconds)
                    } catch (e: CancellationException) {
                        throw e
                    } catch (e: LinliException.Network) {
                        delay(retryMillis)
                        continue
                    } catch (e: LinliException.Server) {
                        delay(retryMillis)
                        continue
                    } catch (e: Exception) {
                        update { it.copy(notice = e.toNotice()) }
                        break
                    }
                    if (changed) sync().join()
                }
            } finally {
                update { it.copy(listening = false) }
            }
        }.also { listener = it }

    @Synchronized
    fun stopListening() {
        listener?.cancel()
    }

    private suspend fun run() {
        update { it.copy(running = true, progress = null, notice = null) }
        try {
            val report = store.sync(settings, progressListener)
            update { it.copy(notice = report.refusedNotice()) }
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            update { it.copy(notice = e.toNotice()) }
        } finally {
            update { it.copy(running = false) }
            // Last-synced time and pending count moved (or not): read them again.
            reload()
        }
    }

    // A local write adds a pending change; pulled changes do not.
    override fun shows(change: DataChange) = !change.fromSync

    override suspend fun load() {
        val state = withContext(io) { store.syncState() }
        update { it.copy(lastSyncedAt = state.lastSyncAt, pendingChanges = state.pendingDocs.toInt()) }
    }

    override fun failed(notice: Notice) = update { it.copy(notice = notice) }
}

/**
 * What a completed sync tells the user about records the server refused (they stay on the
 * phone): those outside the user's area first, as the more actionable; null if none.
 */
fun SyncReport.refusedNotice(): Notice? {
    val outside = refused.count { it.outcome == PushOutcome.OUT_OF_SCOPE }
    return when {
        outside > 0 -> Notice(Message.OUTSIDE_AREA, outside)
        refused.isNotEmpty() -> Notice(Message.NOT_ACCEPTED, refused.size)
        else -> null
    }
}
