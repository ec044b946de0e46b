package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.Department
import uniffi.linli.Incident
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentStatus
import uniffi.linli.LifecycleEvent
import uniffi.linli.LinliStore
import uniffi.linli.MoveDetail
import uniffi.linli.incidentDeadlines

/** One step of an incident's timeline: the event as recorded, and who made it by name. */
data class TimelineEntry(val event: LifecycleEvent, val byName: String?)

data class IncidentDetailUi(
    val loading: Boolean = true,
    val incident: Incident? = null,
    /** The moves this user may make now, from the core's role table; the only ones offered. */
    val moves: List<IncidentAction> = emptyList(),
    /** The events, oldest first, with who made each, when, and what they said. */
    val timeline: List<TimelineEntry> = emptyList(),
    /** The response clock, from the server's receipt ([ResponseClock.NotReceived] until then). */
    val clock: ResponseClock = ResponseClock.NotReceived,
    val notice: Notice? = null,
)

/**
 * One incident: its timeline, its response clock and the moves this user may make. The
 * moves are exactly the core's `incidentMoves` (the role table for this user, the status and
 * the handler): the screen offers nothing else. A move the core refuses becomes a notice
 * from its typed error, and the screen reloads to show where the incident stands.
 */
class IncidentDetailState(
    private val incidentId: String,
    store: LinliStore,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    private val clock: () -> Long = { store.now() },
) : StoreScreen<IncidentDetailUi>(IncidentDetailUi(), store, scope, io) {

    init {
        start()
    }

    /** Recomputes the response clock for the time now, without reading the store. */
    fun tick() {
        val now = clock()
        update { ui -> ui.copy(clock = ui.incident?.let { responseClock(it, now) } ?: ui.clock) }
    }

    /** Makes [action] with its details (a return's reason, feedback's rating, …). */
    suspend fun move(action: IncidentAction, detail: MoveDetail = MoveDetail()): Boolean =
        attempt { store.moveIncidentWith(incidentId, action, detail) }

    /** Dispatches (派单) to a person, a department, or both. */
    suspend fun dispatch(to: String?, department: Department?, note: String = ""): Boolean =
        attempt { store.dispatchIncident(incidentId, to, department, note) }

    private suspend fun attempt(call: () -> IncidentStatus): Boolean =
        try {
            withContext(io) { call() }
            update { it.copy(notice = null) }
            true
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            failed(e.toNotice())
            reload()
            false
        }

    override fun shows(change: DataChange) =
        change.reference || (change.incidents && incidentId in change.docIds)

    override suspend fun load() {
        val (incident, moves, names) = withContext(io) {
            Triple(
                store.incident(incidentId),
                store.incidentMoves(incidentId),
                store.people().associate { it.id to it.name },
            )
        }
        val now = clock()
        update {
            it.copy(
                loading = false,
                incident = incident,
                moves = moves,
                timeline = incident.events.map { e -> TimelineEntry(e, names[e.by]) },
                clock = responseClock(incident, now),
            )
        }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, notice = notice) }

}

/**
 * The response clock of a whole incident at [now], from the core's deadlines (counted from
 * the server's receipt): answered once it has left "reported", not received until then.
 */
fun responseClock(incident: Incident, now: Long): ResponseClock {
    val deadline = incidentDeadlines(incident)?.respondBy
    return when {
        incident.status != IncidentStatus.REPORTED -> ResponseClock.Answered
        deadline == null -> ResponseClock.NotReceived
        now > deadline -> ResponseClock.Overdue(deadline, now - deadline)
        else -> ResponseClock.Running(deadline, deadline - now)
    }
}
