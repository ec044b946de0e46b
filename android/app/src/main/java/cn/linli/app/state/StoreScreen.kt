package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.consumeEach
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.job
import kotlinx.coroutines.launch
import uniffi.linli.ChangeListener
import uniffi.linli.DataChange
import uniffi.linli.LinliStore

/**
 * Calls [action] for every change the store reports, until [scope] ends.
 *
 * The subscription is made before this returns (not in a coroutine), so a write that follows
 * is never missed. [action] runs on whichever thread wrote (a screen, or sync's worker): keep
 * it short and thread-safe.
 */
fun LinliStore.observe(scope: CoroutineScope, action: (DataChange) -> Unit) {
    val id = subscribe(object : ChangeListener {
        override fun onChange(change: DataChange) = action(change)
    })
    scope.coroutineContext.job.invokeOnCompletion { unsubscribe(id) }
}

/**
 * A screen's state over the store: an immutable [ui] snapshot, reloaded whenever the store
 * reports a change the screen shows.
 *
 * Reloads go through a conflated channel read by one coroutine: they never overlap, and a
 * burst of changes (a sync round touching hundreds of households) costs one or two reloads.
 * Store calls block on SQLite, so subclasses make them on [io], never on the caller's thread.
 */
abstract class StoreScreen<T>(
    initial: T,
    protected val store: LinliStore,
    protected val scope: CoroutineScope,
    protected val io: CoroutineDispatcher,
) {
    private val mutableUi = MutableStateFlow(initial)
    val ui: StateFlow<T> = mutableUi.asStateFlow()
    private val reloads = Channel<Unit>(Channel.CONFLATED)

    /** Whether [change] touches what this screen shows. */
    protected abstract fun shows(change: DataChange): Boolean

    /** Reads the store (on [io]) and publishes the result with [update]. */
    protected abstract suspend fun load()

    /** Publishes a failed load or action, keeping what is already shown. */
    protected abstract fun failed(notice: Notice)

    /** Subclasses call this last in `init`, once their own properties are set. */
    protected fun start() {
        store.observe(scope) { if (shows(it)) reload() }
        scope.launch {
            reloads.consumeEach {
                try {
                    load()
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    // One failed read must not stop later reloads.
                    failed(e.toNotice())
                }
            }
        }
        reload()
    }

    /** Asks for a reload (after an input changed); returns at once. */
    fun reload() {
        reloads.trySend(Unit)
    }

    protected fun update(transform: (T) -> T) = mutableUi.update(transform)
}
