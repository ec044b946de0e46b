package cn.linli.app.ui

import androidx.activity.compose.BackHandler
import androidx.annotation.StringRes
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.CheckCircle
import androidx.compose.material.icons.filled.Home
import androidx.compose.material.icons.filled.Refresh
import androidx.compose.material.icons.filled.Warning
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.compose.ui.res.stringResource
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.LifecycleEventObserver
import androidx.lifecycle.compose.LocalLifecycleOwner
import cn.linli.app.R
import cn.linli.app.state.SyncScreenState
import kotlinx.coroutines.Dispatchers
import uniffi.linli.LinliStore
import uniffi.linli.SyncSettings

private enum class Tab(@StringRes val label: Int, val icon: ImageVector) {
    HOUSEHOLDS(R.string.tab_households, Icons.Filled.Home),
    INCIDENTS(R.string.tab_incidents, Icons.Filled.Warning),
    NEEDS(R.string.tab_needs, Icons.Filled.CheckCircle),
    SYNC(R.string.tab_sync, Icons.Filled.Refresh),
}

/**
 * The signed-in app: households (with the register forms), incidents (list and detail), needs
 * followed up, and sync (with the refused records), one tab each. While the app is in the
 * foreground it holds the server's long poll and syncs when told, so a dispatch arrives within
 * seconds; in the background WorkManager syncs ([cn.linli.app.SyncWorker]).
 */
@Composable
fun LinliApp(store: LinliStore, settings: SyncSettings) {
    val live = rememberScreenState("live-sync") { SyncScreenState(store, settings, it, Dispatchers.IO) }
    val lifecycle = LocalLifecycleOwner.current.lifecycle
    DisposableEffect(lifecycle, live) {
        val observer = LifecycleEventObserver { _, event ->
            when (event) {
                Lifecycle.Event.ON_START -> live.listen()
                Lifecycle.Event.ON_STOP -> live.stopListening()
                else -> {}
            }
        }
        lifecycle.addObserver(observer)
        onDispose {
            lifecycle.removeObserver(observer)
            live.stopListening()
        }
    }
    var tab by rememberSaveable { mutableStateOf(Tab.HOUSEHOLDS) }
    var household by rememberSaveable { mutableStateOf<String?>(null) }
    var registering by rememberSaveable { mutableStateOf(false) }
    var incident by rememberSaveable { mutableStateOf<String?>(null) }
    var showRefused by rememberSaveable { mutableStateOf(false) }
    Scaffold(
        bottomBar = {
            NavigationBar {
                Tab.entries.forEach {
                    NavigationBarItem(
                        selected = tab == it,
                        onClick = { tab = it },
                        icon = { Icon(it.icon, contentDescription = null) },
                        label = { Text(stringResource(it.label)) },
                    )
                }
            }
        },
    ) { padding ->
        Box(Modifier.padding(padding)) {
            when (tab) {
                Tab.HOUSEHOLDS -> {
                    val id = household
                    when {
                        id != null -> HouseholdDetailScreen(store, id, onBack = { household = null })
                        registering -> {
                            BackHandler { registering = false }
                            // Once saved, the new household opens.
                            HouseholdFormScreen(
                                store,
                                onSaved = { registering = false; household = it },
                                onCancel = { registering = false },
                            )
                        }
                        else -> HouseholdListScreen(
                            store,
                            onOpen = { household = it },
                            onRegister = { registering = true },
                        )
                    }
                }
                Tab.INCIDENTS -> when (val id = incident) {
                    null -> IncidentsScreen(store, onOpen = { incident = it })
                    else -> IncidentDetailScreen(store, id, onBack = { incident = null })
                }
                // 转事件 opens the new incident on the incidents tab.
                Tab.NEEDS -> NeedsScreen(store, onIncident = { incident = it; tab = Tab.INCIDENTS })
                Tab.SYNC -> if (showRefused) {
                    RefusedScreen(store, onBack = { showRefused = false })
                } else {
                    SyncScreen(store, settings, onShowRefused = { showRefused = true })
                }
            }
        }
    }
}
