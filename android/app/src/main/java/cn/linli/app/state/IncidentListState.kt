package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentFilter
import uniffi.linli.IncidentSummary
import uniffi.linli.LinliStore
import uniffi.linli.responseDeadline
import uniffi.linli.responseOverdue

/**
 * Where an incident stands against the 15-minute response target (15分钟全响应), counted
 * from the server's receipt, never from the phone's clock.
 */
sealed interface ResponseClock {
    /** The server has not received it yet (未接收): no clock runs. */
    data object NotReceived : ResponseClock

    /** Not yet accepted; [remainingMs] left until [deadline]. */
    data class Running(val deadline: Long, val remainingMs: Long) : ResponseClock

    /** Not accepted and past [deadline] by [lateByMs]. */
    data class Overdue(val deadline: Long, val lateByMs: Long) : ResponseClock

    /** Accepted: the response target is met and no longer counts down. */
    data object Answered : ResponseClock
}

/** One incident of the list, with its response clock. */
data class IncidentRow(val incident: IncidentSummary, val clock: ResponseClock)

data class IncidentListUi(
    val loading: Boolean = true,
    val filter: IncidentFilter = IncidentFilter(statuses = emptyList(), assignee = null, placeId = null),
    val rows: List<IncidentRow> = emptyList(),
    val overdueCount: Int = 0,
    val notice: Notice? = null,
)

/**
 * The incidents on this phone with their status and response clock. The clock is the core's:
 * the deadline from `responseDeadline` (none until the server's receipt has synced), overdue
 * from `responseOverdue` at the store's corrected `now()`. Call [tick] every second or so
 * while the screen shows. The moves offered for an incident are the core's ([moves]).
 */
class IncidentListState(
    store: LinliStore,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    private val clock: () -> Long = { store.now() },
) : StoreScreen<IncidentListUi>(IncidentListUi(), store, scope, io) {

    init {
        start()
    }

    fun setFilter(filter: IncidentFilter) {
        update { it.copy(filter = filter) }
        reload()
    }

    /** Recomputes the response clocks for the time now, without reading the store. */
    fun tick() {
        val now = clock()
        update { ui -> withClocks(ui, ui.rows.map { it.incident }, now) }
    }

    /** The moves this user may make on the incident now (the action menu), from the core. */
    suspend fun moves(incidentId: String): List<IncidentAction> =
        try {
            withContext(io) { store.incidentMoves(incidentId) }
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            failed(e.toNotice())
            emptyList()
        }

    /**
     * Moves an incident along its loop (accept → start → resolve → close, or reopen). The
     * list follows through the store's change notice. A move the incident cannot make now
     * (someone else moved it first, on another phone) becomes a notice, and the list reloads
     * to show where it actually stands.
     */
    suspend fun move(incidentId: String, action: IncidentAction, note: String = ""): Boolean =
        try {
            withContext(io) { store.moveIncident(incidentId, action, note) }
            update { it.copy(notice = null) }
            true
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            failed(e.toNotice())
            reload()
            false
        }

    override fun shows(change: DataChange) = change.incidents || change.reference

    override suspend fun load() {
        val filter = ui.value.filter
        val incidents = withContext(io) { store.incidents(filter) }
        val now = clock()
        update {
            // The filter moved on while loading: a reload for it is already queued.
            if (it.filter != filter) it else withClocks(it.copy(loading = false), incidents, now)
        }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, notice = notice) }

    private fun withClocks(ui: IncidentListUi, incidents: List<IncidentSummary>, now: Long): IncidentListUi {
        val rows = incidents.map { IncidentRow(it, responseClock(it, now)) }
        return ui.copy(rows = rows, overdueCount = rows.count { it.clock is ResponseClock.Overdue })
    }
}

/**
 * The response clock of a listed incident at [now], from the core's deadline (counted from
 * the server's receipt): answered once accepted, not received until the receipt has synced.
 */
fun responseClock(incident: IncidentSummary, now: Long): ResponseClock {
    val deadline = responseDeadline(incident)
    return when {
        incident.acceptedAt != null -> ResponseClock.Answered
        deadline == null -> ResponseClock.NotReceived
        responseOverdue(incident, now) -> ResponseClock.Overdue(deadline, now - deadline)
        else -> ResponseClock.Running(deadline, deadline - now)
    }
}
