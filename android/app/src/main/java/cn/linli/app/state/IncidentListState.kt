package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentFilter
import uniffi.linli.IncidentStatus
import uniffi.linli.IncidentSummary
import uniffi.linli.Level
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

/**
 * The list's views (its tabs): everything the filter lets through; what this user handles
 * now (派给我的); what was escalated above the grid (已督办); what is resolved and waits for
 * the resident's feedback (待回访).
 */
enum class IncidentView { ALL, ASSIGNED_TO_ME, ESCALATED, AWAITING_FEEDBACK }

/** Whether [incident] belongs in [view] for the user [me]. */
fun IncidentView.holds(incident: IncidentSummary, me: String): Boolean = when (this) {
    IncidentView.ALL -> true
    IncidentView.ASSIGNED_TO_ME ->
        incident.handler == me && incident.status != IncidentStatus.CLOSED
    IncidentView.ESCALATED -> incident.level != Level.GRID && incident.status != IncidentStatus.CLOSED
    IncidentView.AWAITING_FEEDBACK -> incident.status == IncidentStatus.RESOLVED
}

data class IncidentListUi(
    val loading: Boolean = true,
    val filter: IncidentFilter = IncidentFilter(statuses = emptyList(), assignee = null, placeId = null),
    val view: IncidentView = IncidentView.ALL,
    /** The rows of [view]. */
    val rows: List<IncidentRow> = emptyList(),
    /** How many incidents each view holds (the tabs' badges). */
    val counts: Map<IncidentView, Int> = emptyMap(),
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

    /**
     * Everything the filter let through, before the view picks its rows. Declared before
     * `init`: Kotlin runs initialisers in order, and `start()` may load before a later one.
     */
    @Volatile
    private var all: List<IncidentSummary> = emptyList()

    init {
        start()
    }

    fun setFilter(filter: IncidentFilter) {
        update { it.copy(filter = filter) }
        reload()
    }

    /** Shows another view (tab); no store read. */
    fun setView(view: IncidentView) {
        val now = clock()
        update { withClocks(it.copy(view = view), all, now) }
    }

    /** Recomputes the response clocks for the time now, without reading the store. */
    fun tick() {
        val now = clock()
        update { ui -> withClocks(ui, all, now) }
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
            if (it.filter != filter) {
                it
            } else {
                all = incidents
                withClocks(it.copy(loading = false), incidents, now)
            }
        }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, notice = notice) }

    private fun withClocks(ui: IncidentListUi, incidents: List<IncidentSummary>, now: Long): IncidentListUi {
        val me = store.userId()
        val rows = incidents.filter { ui.view.holds(it, me) }.map { IncidentRow(it, responseClock(it, now)) }
        val counts = IncidentView.entries.associateWith { v -> incidents.count { v.holds(it, me) } }
        return ui.copy(
            rows = rows,
            counts = counts,
            overdueCount = rows.count { it.clock is ResponseClock.Overdue },
        )
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
