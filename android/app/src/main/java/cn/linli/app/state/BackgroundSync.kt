package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext
import uniffi.linli.IncidentFilter
import uniffi.linli.IncidentStatus
import uniffi.linli.IncidentSummary
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.SyncReport
import uniffi.linli.SyncSettings

/** What a background sync brought that the user should hear of: one local notification each. */
sealed interface Alert {
    val incident: IncidentSummary

    /** An incident this user now handles, and did not before the sync (派给我的新工单). */
    data class Assigned(override val incident: IncidentSummary) : Alert

    /** An incident of the user's area raised to a higher level by the sync (督办). */
    data class Escalated(override val incident: IncidentSummary) : Alert
}

/** How a background sync ended, and what the scheduler should do next. */
sealed interface BackgroundOutcome {
    /** Up to date; [alerts] to raise as local notifications. */
    data class Synced(val report: SyncReport, val alerts: List<Alert>) : BackgroundOutcome

    /** Offline, or the server is unreachable or in trouble: try again later. Nothing is lost. */
    data class Retry(val notice: Notice) : BackgroundOutcome

    /** The token was refused or the device revoked (or the app is too old): stop until the
     * user acts; retrying would only fail again. */
    data class Stop(val notice: Notice) : BackgroundOutcome
}

/**
 * One sync run without a screen: what WorkManager's worker (Android) and background refresh
 * (iOS) call, periodically and when the network comes back. It compares the incidents before
 * and after the sync so the app can raise a notification for a new assignment or an
 * escalation. Plain Kotlin, tested on the JVM against the real library and a real server.
 */
class BackgroundSync(
    private val store: LinliStore,
    private val settings: SyncSettings,
    private val io: CoroutineDispatcher,
) {
    suspend fun run(): BackgroundOutcome = withContext(io) {
        val me = store.userId()
        val before = try {
            incidents().associateBy { it.id }
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
        val after = try {
            incidents()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            return@withContext BackgroundOutcome.Synced(report, emptyList())
        }
        BackgroundOutcome.Synced(report, alerts(before, after, me))
    }

    private fun incidents(): List<IncidentSummary> =
        store.incidents(IncidentFilter(statuses = emptyList(), assignee = null, placeId = null))

    private fun outcomeOf(e: Exception): BackgroundOutcome = when (e) {
        is LinliException.Unauthorized, is LinliException.Revoked, is LinliException.UnsupportedVersion ->
            BackgroundOutcome.Stop(e.toNotice())
        else -> BackgroundOutcome.Retry(e.toNotice())
    }
}

/**
 * The alerts between two lists of the same store: incidents [me] handles now and did not
 * before (open ones), and incidents whose level rose.
 */
fun alerts(before: Map<String, IncidentSummary>, after: List<IncidentSummary>, me: String): List<Alert> {
    val assigned = after
        .filter { it.handler == me && it.status != IncidentStatus.CLOSED && before[it.id]?.handler != me }
        .map { Alert.Assigned(it) }
    val escalated = after
        .filter { now -> before[now.id]?.let { now.level > it.level } ?: (now.level.ordinal > 0) }
        .map { Alert.Escalated(it) }
    return assigned + escalated
}
