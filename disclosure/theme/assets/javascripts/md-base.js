// Material for MkDocs 9.8.1, partials/javascripts/base.html, as an external file so that the CSP needs no
// 'unsafe-inline' for scripts (disclosure/theme/partials/javascripts/base.html loads it). The one template value,
// the storage scope (config.extra.scope, default base_url: depends on the page's depth), arrives in
// data-md-scope on the script element. Same globals and localStorage keys as Material.
__md_scope=new URL(document.currentScript.getAttribute("data-md-scope"),location),__md_hash=e=>[...e].reduce(((e,_)=>(e<<5)-e+_.charCodeAt(0)),0),__md_get=(e,_=localStorage,t=__md_scope)=>JSON.parse(_.getItem(t.pathname+"."+e)),__md_set=(e,_,t=localStorage,a=__md_scope)=>{try{t.setItem(a.pathname+"."+e,JSON.stringify(_))}catch(e){}}
