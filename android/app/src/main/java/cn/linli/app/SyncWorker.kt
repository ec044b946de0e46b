package cn.linli.app

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import cn.linli.app.state.BackgroundOutcome
import cn.linli.app.state.BackgroundSync
import cn.linli.app.state.Message
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers

/**
 * Sync without tapping: WorkManager runs [BackgroundSync] every 15 minutes (its shortest
 * period) and once whenever the network comes back, both only with a connection. A new
 * assignment, an escalation or a follow-up falling due that the sync brought (the core's
 * rule, against the snapshot kept in [SnapshotPrefs]) becomes a local notification ([Alerts]).
 * Offline is "retry later" with WorkManager's back-off; a refused token stops until the user
 * signs in again.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val app = applicationContext as LinliApplication
        val account = app.accounts.load() ?: return Result.success()
        val store = try {
            app.store(account)
        } catch (e: Exception) {
            return Result.retry()
        }
        val background = BackgroundSync(store, account.syncSettings, Dispatchers.IO, SnapshotPrefs(applicationContext))
        return when (val outcome = background.run()) {
            is BackgroundOutcome.Synced -> {
                Alerts.post(applicationContext, outcome.alerts)
                Result.success()
            }
            is BackgroundOutcome.Retry -> Result.retry()
            is BackgroundOutcome.Stop -> {
                // A revoked device: the core erased the store; its files and key go too.
                if (outcome.notice.message == Message.DEVICE_REVOKED) app.signOut()
                Result.failure()
            }
        }
    }

    companion object {
        private const val PERIODIC = "linli-sync-periodic"
        private const val WHEN_ONLINE = "linli-sync-when-online"

        private val online = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

        /** Schedules the periodic sync (kept if already scheduled) and one as soon as online. */
        fun schedule(context: Context) {
            val work = WorkManager.getInstance(context)
            val periodic = PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES)
                .setConstraints(online)
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build()
            work.enqueueUniquePeriodicWork(PERIODIC, ExistingPeriodicWorkPolicy.KEEP, periodic)
            syncWhenOnline(context)
        }

        /**
         * One sync as soon as there is a connection: WorkManager holds it until the network
         * comes back (call it after writing offline). One such request at a time.
         */
        fun syncWhenOnline(context: Context) {
            val once = OneTimeWorkRequestBuilder<SyncWorker>()
                .setConstraints(online)
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build()
            WorkManager.getInstance(context).enqueueUniqueWork(WHEN_ONLINE, ExistingWorkPolicy.KEEP, once)
        }

        fun cancel(context: Context) {
            val work = WorkManager.getInstance(context)
            work.cancelUniqueWork(PERIODIC)
            work.cancelUniqueWork(WHEN_ONLINE)
            // The next account starts from its own first sync, not this one's snapshot.
            SnapshotPrefs(context).clear()
        }
    }
}
