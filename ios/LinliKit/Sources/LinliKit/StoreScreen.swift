// A screen's state over the store: an immutable `ui` snapshot, reloaded whenever the store
// reports a change the screen shows. The Swift twin of android's StoreScreen.kt.

import Foundation
@_exported import LinliBindings

/// Runs the store's blocking calls (SQLite on the device) off the main thread.
public final class StoreWorker: Sendable {
    public static let shared = StoreWorker()

    private let queue = DispatchQueue(
        label: "cn.linli.store", qos: .userInitiated, attributes: .concurrent)

    public init() {}

    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// Forwards the store's change notices to a closure. The store calls it on whichever thread
/// wrote (a screen's worker, or sync's): the closure hops to where it needs to be.
final class ChangeRelay: ChangeListener {
    private let action: @Sendable (DataChange) -> Void

    init(_ action: @escaping @Sendable (DataChange) -> Void) {
        self.action = action
    }

    func onChange(change: DataChange) {
        action(change)
    }
}

/// A store subscription that ends when this object goes away (with the screen holding it).
final class Subscription: Sendable {
    private let store: LinliStore
    private let id: UInt64

    init(store: LinliStore, action: @escaping @Sendable (DataChange) -> Void) {
        self.store = store
        self.id = store.subscribe(listener: ChangeRelay(action))
    }

    deinit {
        store.unsubscribe(id: id)
    }
}

/// The base of the screens that show store data. Subclasses override `shows`, `load` and
/// `failed`, and call `start()` at the end of their `init`.
///
/// Reloads never overlap: a change notice during a load marks one more load, so a burst
/// of changes (a sync round touching hundreds of households) costs one or two reloads.
@MainActor
public class StoreScreen<UI>: ObservableObject {
    @Published public private(set) var ui: UI
    let store: LinliStore
    let worker: StoreWorker
    private var subscription: Subscription?
    private var loading = false
    private var loadAgain = false

    init(_ initial: UI, store: LinliStore, worker: StoreWorker) {
        self.ui = initial
        self.store = store
        self.worker = worker
    }

    /// Whether `change` touches what this screen shows.
    func shows(_ change: DataChange) -> Bool { true }

    /// Reads the store (through `worker`) and publishes the result with `update`.
    func load() async throws {}

    /// Publishes a failed load or action, keeping what is already shown.
    func failed(_ notice: Notice) {}

    /// Subscribes before returning, so a write that follows is never missed; then loads.
    func start() {
        subscription = Subscription(store: store) { [weak self] change in
            Task { @MainActor [weak self] in
                guard let self, self.shows(change) else { return }
                self.reload()
            }
        }
        reload()
    }

    /// Asks for a reload (after an input changed); returns at once.
    public func reload() {
        if loading {
            loadAgain = true
            return
        }
        loading = true
        Task { await self.drain() }
    }

    private func drain() async {
        repeat {
            loadAgain = false
            do {
                try await load()
            } catch {
                // One failed read must not stop later reloads.
                failed(Notice(error))
            }
        } while loadAgain
        loading = false
    }

    func update(_ transform: (inout UI) -> Void) {
        transform(&ui)
    }
}
